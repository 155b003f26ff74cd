"""Answers as documented: imports for administrators, 403 and 404 where each belongs, 422 naming where.

Each test reproduces a finding of the outside test.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.security.world import World
from twin.auth.roles import Role


def test_imports_are_readable_by_admins_only(client: TestClient, world: World) -> None:
    for role in Role:
        if role is Role.ADMIN:
            continue
        headers = world.headers(role, "G")
        assert client.get("/api/imports", headers=headers).status_code == 403, role
        assert client.get("/api/imports/1", headers=headers).status_code == 403, role
    admin = world.headers(Role.ADMIN, "G")
    assert client.get("/api/imports", headers=admin).status_code == 200


def test_a_route_ones_role_may_not_use_is_a_403_wherever_the_object(client: TestClient, world: World) -> None:
    viewer = world.headers(Role.VIEWER, "A")
    b = world.sides["B"]
    for method, url, body in (
        ("PATCH", f"/api/places/{b.floor}", {"name": "x"}),
        ("DELETE", f"/api/places/{b.corridor}", None),
        ("PATCH", f"/api/devices/{b.elevator}", {"name": "x"}),
        ("DELETE", f"/api/devices/{b.elevator}", None),
        ("DELETE", f"/api/relations/{b.relation}", None),
        ("POST", "/api/devices", {"place_id": b.corridor, "kind": "camera", "name": "cam"}),
        ("POST", "/api/walk-edges", {"from_space_id": b.unit, "to_space_id": b.corridor, "kind": "door"}),
    ):
        answer = client.request(method, url, json=body, headers=viewer)
        assert answer.status_code == 403, (method, url, answer.text)
    writer = world.headers(Role.ADMIN, "A")
    assert client.patch(f"/api/places/{b.floor}", json={"name": "x"}, headers=writer).status_code == 404


def test_a_refused_query_parameter_is_located_in_the_query(client: TestClient, world: World) -> None:
    refused = client.get("/api/alarms", params={"state": "burning"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "state"]
    body = client.post("/api/users", json={"username": "no spaces"})
    assert body.json()["detail"][0]["loc"] == ["body", "username"]


def test_device_state_sends_last_seen_even_when_never_seen(client: TestClient, world: World) -> None:
    state = client.get(f"/api/devices/{world.sides['A'].elevator}/state")
    assert state.status_code == 200
    assert "last_seen" in state.json() and state.json()["last_seen"] is None


QUERIES = [
    ("/api/audit", {"until": "0.5"}),
    ("/api/audit", {"since": "1700000000"}),
    ("/api/alarms", {"since": "0"}),
    ("/api/alarms", {"grouped": "0"}),
    ("/api/tickets", {"overdue": "1"}),
    ("/api/devices", {"include_retired": "yes"}),
]
BODIES = [
    ("/api/users/newcomer/grants", {"role": "viewer", "place_id": False}),
    ("/api/users/newcomer/grants", {"role": "viewer", "place_id": 1.0}),
    ("/api/users", {"username": "flagged", "wall_display": 0}),
    ("/api/users", {"username": "flagged", "wall_display": "false "}),
]


def test_numbers_are_not_times_nor_flags_in_a_query(client: TestClient) -> None:
    for url, params in QUERIES:
        refused = client.get(url, params=params)
        assert refused.status_code == 422, (url, params, refused.text)
        assert refused.json()["detail"][0]["loc"][0] == "query", refused.text


def test_booleans_are_not_numbers_nor_numbers_booleans_in_a_body(client: TestClient) -> None:
    assert client.post("/api/users", json={"username": "newcomer"}).status_code == 201
    for url, body in BODIES:
        refused = client.post(url, json=body)
        assert refused.status_code == 422, (url, body, refused.text)


def test_well_formed_times_and_flags_still_pass(client: TestClient, world: World) -> None:
    assert client.get("/api/audit", params={"until": "2030-01-01T00:00:00Z"}).status_code == 200
    assert client.get("/api/alarms", params={"grouped": "false"}).status_code == 200
    assert client.get("/api/tickets", params={"overdue": "true"}).status_code == 200
