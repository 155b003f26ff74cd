"""Tickets through the API on real PostGIS: workflow, illegal moves, SLA, history, filters, counts and scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community
from twin.auth.roles import Role


def open_ticket(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("category", "plumbing")
    body.setdefault("description", "卫生间漏水")
    response = client.post("/api/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def move(client: TestClient, ticket: int, to: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/api/tickets/{ticket}/status", json={"status": to}, headers=headers)


def test_workflow_with_assignment_history_and_reopen(client: TestClient, community: Community) -> None:
    ticket = open_ticket(client, place_id=community.units["3-2-201"], priority="urgent")
    assert ticket["status"] == "open" and ticket["source"] == "operator" and not ticket["overdue"]
    opened = datetime.fromisoformat(ticket["opened_at"])
    assert datetime.fromisoformat(ticket["due_at"]) - opened == timedelta(hours=2), "urgent plumbing: two hours"
    assert [step["kind"] for step in ticket["path"]] == ["site", "building", "floor", "space"]

    assert move(client, ticket["id"], "assigned").status_code == 422, "assigned needs an assignee"
    assigned = client.post(f"/api/tickets/{ticket['id']}/assign", json={"assignee": "root", "note": "王师傅"})
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    assert assigned.json()["assignee"] == "root"
    for status in ("in_progress", "resolved", "closed", "open"):
        response = move(client, ticket["id"], status)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    reopened = response.json()
    assert reopened["resolved_at"] is None and reopened["closed_at"] is None
    assert datetime.fromisoformat(reopened["opened_at"]) > opened, "reopening restarts the SLA"

    comment = client.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "住户不在家，明天再来"})
    assert comment.status_code == 201 and comment.json()["kind"] == "comment"
    detail = client.get(f"/api/tickets/{ticket['id']}").json()
    assert [line["kind"] for line in detail["history"]] == [
        "created",
        "assigned",
        "status",
        "status",
        "status",
        "status",
        "comment",
    ]
    assert [(line["from_status"], line["to_status"]) for line in detail["history"][2:6]] == [
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "open"),
    ]
    assert all(line["actor"] == "root" for line in detail["history"])


def test_illegal_transitions_name_both_states(client: TestClient, community: Community) -> None:
    ticket = open_ticket(client, device_id=community.devices["pump"], category="plumbing")
    for to in ("resolved", "closed", "in_progress", "open"):
        response = move(client, ticket["id"], to)
        assert response.status_code == 422, to
        message = response.json()["detail"][0]["msg"]
        assert f"from open to {to}" in message
    assert client.get(f"/api/tickets/{ticket['id']}").json()["status"] == "open"
    unknown = move(client, ticket["id"], "done")
    assert unknown.status_code == 422


def test_bad_tickets_are_refused_naming_what(client: TestClient, community: Community) -> None:
    both = client.post(
        "/api/tickets",
        json={
            "place_id": community.tower,
            "device_id": community.devices["pump"],
            "category": "other",
            "description": "x",
        },
    )
    assert both.status_code == 422 and "exactly one" in both.text
    unknown_place = client.post("/api/tickets", json={"place_id": 999999, "category": "other", "description": "x"})
    assert unknown_place.status_code == 404 and "999999" in unknown_place.text
    unknown_category = client.post(
        "/api/tickets", json={"place_id": community.tower, "category": "magic", "description": "x"}
    )
    assert unknown_category.status_code == 422
    assert client.post("/api/tickets/424242/status", json={"status": "closed"}).status_code == 404


def test_overdue_filters_and_counts(client: TestClient, community: Community, postgis_conninfo: str) -> None:
    late = open_ticket(client, place_id=community.units["3-2-101"], category="lighting")
    fresh = open_ticket(client, device_id=community.devices["hydrant-2"], category="fire_safety")
    open_ticket(client, place_id=community.units["3-2-302"], category="lighting", priority="low")
    closed = open_ticket(client, place_id=community.other_tower, category="cleaning")
    client.post(f"/api/tickets/{closed['id']}/assign", json={"assignee": "root"})
    for status in ("in_progress", "resolved", "closed"):
        assert move(client, closed["id"], status).status_code == 200
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE tickets SET due_at = now() - interval '1 hour' WHERE id IN (%s, %s)", (late["id"], closed["id"])
        )

    overdue = client.get("/api/tickets", params={"overdue": "true"}).json()["items"]
    assert [t["id"] for t in overdue] == [late["id"]], "a closed ticket past its due time is not overdue"
    assert overdue[0]["overdue"] is True
    floor2 = client.get("/api/tickets", params={"under": community.floors[2]}).json()["items"]
    assert [t["id"] for t in floor2] == [fresh["id"]]
    lighting = client.get("/api/tickets", params={"category": "lighting", "under": community.tower}).json()["items"]
    assert len(lighting) == 2
    closed_list = client.get("/api/tickets", params={"status": "closed"}).json()["items"]
    assert [t["id"] for t in closed_list] == [closed["id"]]
    page = client.get("/api/tickets", params={"limit": 2}).json()
    rest = client.get("/api/tickets", params={"limit": 2, "cursor": page["next"]}).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 2 and rest["next"] is None
    assert {t["id"] for t in page["items"]}.isdisjoint({t["id"] for t in rest["items"]})

    by_building = client.get("/api/tickets/counts", params={"under": community.site, "by": "building"}).json()["items"]
    tower = next(row for row in by_building if row["place_id"] == community.tower)
    other = next(row for row in by_building if row["place_id"] == community.other_tower)
    assert (tower["active"], tower["overdue"], tower["open"]) == (3, 1, 3)
    assert (other["active"], other["closed"]) == (0, 1)
    by_floor = client.get("/api/tickets/counts", params={"under": community.tower, "by": "floor"}).json()["items"]
    assert {row["place_id"]: row["active"] for row in by_floor} == {
        community.floors[1]: 1,
        community.floors[2]: 1,
        community.floors[3]: 1,
    }


def test_alarm_link_both_ways_and_app_source(client: TestClient, community: Community, make_user: MakeUser) -> None:
    ticket = open_ticket(client, device_id=community.devices["sd-3-2-101"], category="fire_safety", alarm_id=77)
    assert ticket["source"] == "alarm" and ticket["alarm_id"] == 77
    found = client.get("/api/tickets", params={"alarm_id": 77}).json()["items"]
    assert [t["id"] for t in found] == [ticket["id"]]
    make_user("residents-app", password=None, grants=[(Role.INSPECTOR, community.site, None)])
    key = client.post("/api/apikeys", json={"username": "residents-app", "name": "业主App"}).json()["key"]
    from_app = open_ticket(client, {"X-API-Key": key}, place_id=community.units["3-2-102"], category="plumbing")
    assert from_app["source"] == "app" and from_app["reporter"] == "residents-app"


def test_scope_inspector_and_finance(client: TestClient, community: Community, make_user: MakeUser) -> None:
    inside = open_ticket(client, place_id=community.units["3-2-101"])
    outside = open_ticket(client, place_id=community.other_tower, category="cleaning")
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    make_user("cashier", grants=[(Role.FINANCE, community.site, None)])
    insp = login(client, "insp")
    assert client.get(f"/api/tickets/{outside['id']}", headers=insp).status_code == 404
    assert move(client, outside["id"], "closed", insp).status_code == 404, "outside one's building: not even a 403"
    listed = client.get("/api/tickets", headers=insp).json()["items"]
    assert [t["id"] for t in listed] == [inside["id"]]
    counts = client.get("/api/tickets/counts", params={"under": community.site}, headers=insp).json()["items"]
    assert [row["place_id"] for row in counts] == [community.tower]
    assign = client.post(f"/api/tickets/{inside['id']}/assign", json={"assignee": "insp"}, headers=insp)
    assert assign.status_code == 200
    assert client.post(f"/api/tickets/{outside['id']}/assign", json={"assignee": "insp"}).status_code == 422, (
        "an inspector of tower 3 cannot be given work in tower 5"
    )

    cashier = login(client, "cashier")
    assert client.get(f"/api/tickets/{inside['id']}", headers=cashier).status_code == 200
    for to in ("in_progress", "closed"):
        assert move(client, inside["id"], to, cashier).status_code == 403
    assert (
        client.post(
            "/api/tickets", json={"place_id": community.tower, "category": "other", "description": "x"}, headers=cashier
        ).status_code
        == 403
    )


def test_vendor_sees_only_tickets_on_its_kinds(client: TestClient, community: Community, make_user: MakeUser) -> None:
    lift = client.post(
        "/api/devices",
        json={"place_id": community.corridors[1], "kind": "elevator", "name": "1号梯", "position": [20.0, 10.0, 0.0]},
    ).json()["id"]
    on_lift = open_ticket(client, device_id=lift, category="elevator")
    open_ticket(client, device_id=community.devices["pump"])
    open_ticket(client, place_id=community.units["3-2-101"])
    make_user("lift-co", grants=[(Role.VENDOR, community.site, ["elevator"])])
    vendor = login(client, "lift-co")
    assert [t["id"] for t in client.get("/api/tickets", headers=vendor).json()["items"]] == [on_lift["id"]]
    assert client.post(f"/api/tickets/{on_lift['id']}/assign", json={"assignee": "lift-co"}).status_code == 200
    assert move(client, on_lift["id"], "in_progress", vendor).status_code == 200


def test_ticket_follows_its_place_and_device_when_they_move(client: TestClient, community: Community) -> None:
    unit = community.units["3-2-101"]
    on_unit = open_ticket(client, place_id=unit)
    on_device = open_ticket(client, device_id=community.devices["sd-3-2-101"], category="fire_safety")
    assert client.patch(f"/api/places/{unit}", json={"parent_id": community.floors[2]}).status_code == 200
    for ticket in (on_unit, on_device):
        path = [step["id"] for step in client.get(f"/api/tickets/{ticket['id']}").json()["path"]]
        assert path == [community.site, community.tower, community.floors[2], unit]
    under_floor2 = client.get("/api/tickets", params={"under": community.floors[2]}).json()["items"]
    assert {t["id"] for t in under_floor2} == {on_unit["id"], on_device["id"]}


def test_every_change_is_audited_and_announced_after_commit(client: TestClient, community: Community) -> None:
    events: list[Any] = []
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    unsubscribe = runtime.events.subscribe(lambda e: events.append(e) if e.kind == "ticket" else None)
    try:
        ticket = open_ticket(client, place_id=community.units["3-2-101"])
        move(client, ticket["id"], "resolved")  # refused: nothing announced
        client.post(f"/api/tickets/{ticket['id']}/assign", json={"assignee": "root"})
    finally:
        unsubscribe()
    assert [(e.action, e.data["status"]) for e in events] == [("create", "open"), ("update", "assigned")]
    assert events[0].path == (
        f"site:{community.site}",
        f"building:{community.tower}",
        f"floor:{community.floors[1]}",
        f"space:{community.units['3-2-101']}",
    )
    audit = client.get("/api/audit", params={"kind": "ticket", "object_id": str(ticket["id"])}).json()["items"]
    assert [row["action"] for row in audit] == ["ticket.update", "ticket.create"], "newest first"
    assert audit[0]["before"]["status"] == "open" and audit[0]["after"]["status"] == "assigned"


def test_blank_text_is_refused(client: TestClient, community: Community) -> None:
    blank = client.post("/api/tickets", json={"place_id": community.tower, "category": "other", "description": "   "})
    assert blank.status_code == 422
    ticket = open_ticket(client, place_id=community.tower, title="  门禁故障  ")
    assert ticket["title"] == "门禁故障"
    assert client.post(f"/api/tickets/{ticket['id']}/comments", json={"body": " \n "}).status_code == 422
