"""What the inspector's tablet needs of the server: its rounds of today, and results that may arrive twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.operations.test_inspections import LONG_AGO, plan, plan_round
from tests.twin.community import Community
from twin.auth.roles import Role


def _png(colour: str) -> bytes:
    """Return bytes the server takes for a PNG (it judges by the signature), different per colour."""
    return b"\x89PNG\r\n\x1a\n" + colour.encode() * 64


def test_the_tablet_lists_the_signed_in_inspectors_open_and_todays_rounds(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    make_user("insp2", grants=[(Role.INSPECTOR, community.tower, None)])
    plan(client, place_id=community.tower, device_kinds=["hydrant"], starts_at=LONG_AGO)
    mine = plan_round(client, place_id=community.tower, budget_minutes=120).json()
    theirs = plan_round(client, place_id=community.tower, budget_minutes=120, inspector="insp2").json()
    insp = login(client, "insp")
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
    listed = client.get("/api/inspections/rounds", params={"mine": "true", "since": midnight}, headers=insp)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["items"]] == [mine["id"]]
    assert listed.json()["items"][0]["stops"] == mine["stops"]
    everyone = client.get("/api/inspections/rounds").json()["items"]
    assert {r["id"] for r in everyone} == {mine["id"], theirs["id"]}, "an admin sees every round in scope"
    client.post(f"/api/inspections/rounds/{mine['id']}/finish")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = client.get("/api/inspections/rounds", params={"mine": "true", "since": tomorrow}, headers=insp)
    assert later.json()["items"] == [], "a round done before the day asked for is not today's"
    naive = client.get("/api/inspections/rounds", params={"mine": "true", "since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "since" in naive.text


def test_a_result_sent_again_with_its_key_is_the_same_visit_and_the_same_ticket(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    plan(client, place_id=community.tower, device_kinds=["hydrant"], starts_at=LONG_AGO)
    rnd = plan_round(client, place_id=community.tower, budget_minutes=120).json()
    insp = login(client, "insp")
    url = f"/api/inspections/rounds/{rnd['id']}/stops"
    first, second, third = rnd["stops"]
    defect = {"outcome": "defect", "note": "水带缺失", "key": "k-first-0001"}
    created = client.post(f"{url}/{first['id']}", json=defect, headers=insp)
    assert created.status_code == 201 and created.json()["key"] == "k-first-0001"
    repeated = client.post(f"{url}/{first['id']}", json=defect, headers=insp)
    assert repeated.status_code == 200, repeated.text
    assert repeated.json() == created.json(), "the same visit, its ticket and time included"
    tickets = client.get("/api/tickets", params={"device_id": first["device_id"]}).json()["items"]
    assert len([t for t in tickets if t["source"] == "inspection"]) == 1
    elsewhere = client.post(f"{url}/{second['id']}", json={"outcome": "ok", "key": "k-first-0001"}, headers=insp)
    assert elsewhere.status_code == 422 and "key" in elsewhere.text
    other_key = client.post(f"{url}/{first['id']}", json={"outcome": "ok", "key": "k-first-0002"}, headers=insp)
    assert other_key.status_code == 422, "another result for a recorded stop is refused"
    for stop, key in ((second, "k-second-01"), (third, "k-third-001")):
        assert client.post(f"{url}/{stop['id']}", json={"outcome": "ok", "key": key}, headers=insp).status_code == 201
    assert client.get(f"/api/inspections/rounds/{rnd['id']}").json()["status"] == "done"
    late = client.post(f"{url}/{third['id']}", json={"outcome": "ok", "key": "k-third-001"}, headers=insp)
    assert late.status_code == 200, "a repeat that arrives after the round ended is still the same visit"
    bad = client.post(f"{url}/{third['id']}", json={"outcome": "ok", "key": "no spaces!"}, headers=insp)
    assert bad.status_code == 422


def test_the_same_photo_sent_twice_is_kept_once(client: TestClient, community: Community) -> None:
    ticket = client.post(
        "/api/tickets",
        json={"device_id": community.devices["hydrant-1"], "category": "fire_safety", "description": "消火栓漏水"},
    )
    assert ticket.status_code == 201, ticket.text
    tid = ticket.json()["id"]
    one = client.post(f"/api/uploads/tickets/{tid}/photos", files={"file": ("a.png", _png("red"), "image/png")})
    two = client.post(f"/api/uploads/tickets/{tid}/photos", files={"file": ("b.png", _png("red"), "image/png")})
    other = client.post(f"/api/uploads/tickets/{tid}/photos", files={"file": ("c.png", _png("blue"), "image/png")})
    assert one.status_code == two.status_code == other.status_code == 201
    assert one.json()["id"] == two.json()["id"] != other.json()["id"]
    assert len(client.get(f"/api/tickets/{tid}").json()["photos"]) == 2
