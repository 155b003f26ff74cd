"""Emergency links managed from the command center: absolute addresses, listing and revoking, within scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community, build
from twin.auth.roles import Role


@pytest.fixture
def community(client: TestClient) -> Community:
    return build(client)


def test_a_link_is_absolute_listed_without_its_key_and_revoked_at_once(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("ops", grants=[(Role.OPERATOR, community.site, None)])
    ops = login(client, "ops")
    made = client.post("/api/emergency-links", json={"site_id": community.site, "hours": 2}, headers=ops)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["url"] == f"http://testserver/respond?key={link['key']}", "absolute: the address the request reached"
    assert link["warning"] is None
    token = client.post("/api/auth/emergency", json={"key": link["key"]}).json()["access_token"]
    responder = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/devices", params={"under": community.site}, headers=responder).status_code == 200

    listed = client.get("/api/emergency-links", params={"site_id": community.site}, headers=ops)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert (row["id"], row["active"], row["uses"], row["revoked_at"]) == (link["id"], True, 1, None)
    assert "key" not in row and link["key"] not in listed.text

    assert client.delete(f"/api/emergency-links/{link['id']}", headers=ops).status_code == 200
    assert client.delete(f"/api/emergency-links/{link['id']}", headers=ops).status_code == 200, "revoking twice is one"
    assert client.post("/api/auth/emergency", json={"key": link["key"]}).status_code == 401
    assert client.get("/api/devices", params={"under": community.site}, headers=responder).status_code == 401
    (row,) = client.get("/api/emergency-links", params={"ended": True}, headers=ops).json()["items"]
    assert row["active"] is False and row["revoked_at"] is not None
    revokes = client.get("/api/audit", params={"action": "emergency.revoke"}).json()["items"]
    assert len(revokes) == 1 and revokes[0]["actor"] == "ops"
    assert client.delete("/api/emergency-links/999999", headers=ops).status_code == 404


def test_a_loopback_address_is_warned_about(client: TestClient, community: Community) -> None:
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        made = client.post("/api/emergency-links", json={"site_id": community.site}, headers={"host": host})
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["url"].startswith(f"http://{host}/respond?key=") and "loopback" in (body["warning"] or "")
    lan = client.post("/api/emergency-links", json={"site_id": community.site}, headers={"host": "192.168.1.20:8000"})
    assert lan.json()["warning"] is None and lan.json()["url"].startswith("http://192.168.1.20:8000/respond?key=")


def test_links_are_managed_only_within_the_callers_scope(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("tower_ops", grants=[(Role.OPERATOR, community.tower, None)])
    make_user("insp", grants=[(Role.INSPECTOR, community.site, None)])
    link = client.post("/api/emergency-links", json={"site_id": community.site}).json()
    tower_ops = login(client, "tower_ops")
    assert client.get("/api/emergency-links", headers=tower_ops).json()["items"] == []
    assert client.delete(f"/api/emergency-links/{link['id']}", headers=tower_ops).status_code == 403
    insp = login(client, "insp")
    assert client.get("/api/emergency-links", headers=insp).status_code == 403
    assert client.delete(f"/api/emergency-links/{link['id']}", headers=insp).status_code == 403
    assert client.get("/api/emergency-links").json()["items"][0]["active"] is True
