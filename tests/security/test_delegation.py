"""Delegation: a building administrator administers its building and nothing above or beside it.

Each test reproduces a finding of the outside test (a building-scoped admin became a global one)
and shows what the same administrator may still do inside its own scope.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.api_fixtures import login
from tests.security.world import World, system
from twin.auth import users
from twin.auth.authenticate import load_principal
from twin.auth.roles import Role
from twin.errors import ForbiddenError, NotFoundError


def _as(client: TestClient, world: World, role: Role = Role.ADMIN, scope: str = "A") -> dict[str, str]:
    return world.headers(role, scope)


def test_a_building_admin_grants_roles_in_its_building_and_never_everywhere(client: TestClient, world: World) -> None:
    a = _as(client, world)
    made = client.post("/api/users", json={"username": "newcomer", "password": "long enough pw"}, headers=a)
    assert made.status_code == 201, made.text
    everywhere = client.post("/api/users/newcomer/grants", json={"role": "admin", "place_id": None}, headers=a)
    assert everywhere.status_code == 403, everywhere.text
    other = client.post(
        "/api/users/newcomer/grants", json={"role": "viewer", "place_id": world.sides["B"].building}, headers=a
    )
    assert other.status_code == 404, "building B is not confirmed to A's administrator"
    site = client.post("/api/users/newcomer/grants", json={"role": "viewer", "place_id": world.site}, headers=a)
    assert site.status_code == 403, "the site lies above A: seen, not administered"
    inside = client.post(
        "/api/users/newcomer/grants", json={"role": "admin", "place_id": world.sides["A"].floor}, headers=a
    )
    assert inside.status_code == 201, inside.text
    assert client.post("/api/users/newcomer/grants", json={"role": "admin", "place_id": None}).status_code == 201


def test_nobody_grants_a_role_it_does_not_hold_there(client: TestClient, world: World) -> None:
    ops = _as(client, world, Role.OPERATOR)
    assert client.post("/api/users", json={"username": "x-by-ops"}, headers=ops).status_code == 403
    refused = client.post("/api/users/viewer-of-a/grants", json={"role": "admin", "place_id": None}, headers=ops)
    assert refused.status_code == 403


def test_a_building_admin_mints_keys_only_for_itself_and_its_machine_accounts(client: TestClient, world: World) -> None:
    a = _as(client, world)
    assert client.post("/api/apikeys", json={"username": "admin-g", "name": "x"}, headers=a).status_code == 404
    assert client.post("/api/apikeys", json={"username": "root", "name": "x"}, headers=a).status_code == 404
    human = client.post("/api/apikeys", json={"username": "viewer-of-a", "name": "x"}, headers=a)
    assert human.status_code == 403, "a key would let the administrator act as that person"
    other = client.post("/api/apikeys", json={"username": "machine-of-b", "name": "x"}, headers=a)
    assert other.status_code == 404
    mine = client.post("/api/apikeys", json={"username": "machine-of-a", "name": "gate 2"}, headers=a)
    assert mine.status_code == 201, mine.text
    assert client.post("/api/apikeys", json={"username": "admin-a", "name": "me"}, headers=a).status_code == 201
    assert client.delete(f"/api/apikeys/{world.sides['B'].machine_key}", headers=a).status_code == 404
    assert client.delete(f"/api/apikeys/{world.sides['A'].machine_key}", headers=a).status_code == 204


def test_a_building_admin_disables_only_accounts_inside_its_building(client: TestClient, world: World) -> None:
    a = _as(client, world)
    assert client.post("/api/users/root/disable", headers=a).status_code == 404
    assert client.post("/api/users/admin-g/disable", headers=a).status_code == 404
    assert client.post("/api/users/viewer-b/disable", headers=a).status_code == 404
    assert client.post("/api/users/viewer-of-a/disable", headers=a).status_code == 200
    assert client.get("/api/me", headers=login(client, "root")).status_code == 200


def test_only_a_global_admin_touches_site_wide_rules(client: TestClient, world: World) -> None:
    spec = {"name": "hot lifts", "kind": "elevator", "quantity": "temperature", "condition": "above",
            "threshold": 60, "unit": "°C", "severity": "major"}  # fmt: skip
    a = _as(client, world)
    assert client.post("/api/alarms/rules", json={"spec": spec}, headers=a).status_code == 403
    rule = client.post("/api/alarms/rules", json={"spec": spec})
    assert rule.status_code == 201, rule.text
    assert client.delete(f"/api/alarms/rules/{rule.json()['id']}", headers=a).status_code == 403
    own = {**spec, "name": "A's lift", "kind": None, "device": "EL-A"}
    own.pop("kind")
    mine = client.post("/api/alarms/rules", json={"spec": own}, headers=a)
    assert mine.status_code == 201, mine.text
    assert client.delete(f"/api/alarms/rules/{mine.json()['id']}", headers=a).status_code == 204
    theirs = client.post("/api/alarms/rules", json={"spec": {**own, "name": "B's lift", "device": "EL-B"}})
    assert theirs.status_code == 201
    assert client.delete(f"/api/alarms/rules/{theirs.json()['id']}", headers=a).status_code == 404, "B's lift unseen"
    assert client.delete(f"/api/alarms/rules/{rule.json()['id']}").status_code == 204


def test_only_a_global_admin_creates_a_site(client: TestClient, world: World) -> None:
    body = {"name": "新区", "origin_lat": 25.0, "origin_lon": 102.0}
    assert client.post("/api/sites", json=body, headers=_as(client, world)).status_code == 403
    assert client.post("/api/sites", json=body, headers=_as(client, world, scope="G")).status_code == 201


def test_user_list_and_audit_log_are_trimmed_to_ones_scope(client: TestClient, world: World) -> None:
    a = _as(client, world)
    listed = {u["username"]: u for u in client.get("/api/users", headers=a).json()["items"]}
    assert "root" not in listed and "admin-g" not in listed and "viewer-of-b" not in listed and "viewer-b" not in listed
    assert {"admin-a", "viewer-of-a", "machine-of-a", "viewer-a"} <= set(listed)
    assert all(g["place_id"] is not None for u in listed.values() for g in u["grants"])
    everyone = client.get("/api/users").json()["items"]
    assert {"root", "viewer-of-b"} <= {u["username"] for u in everyone}
    audit = client.get("/api/audit", params={"limit": 1000}, headers=a).json()["items"]
    b = world.sides["B"]
    assert audit, "the changes in A are A's administrator's to read"
    assert not [r for r in audit if r["kind"] == "device" and r["object_id"] in {str(b.elevator), str(b.smoke)}]
    assert not [r for r in audit if r["kind"] == "user" and r["after"] and r["after"].get("username") == "root"]
    assert {r["object_id"] for r in audit if r["kind"] == "device"} >= {str(world.sides["A"].elevator)}
    full = client.get("/api/audit", params={"limit": 1000}).json()["items"]
    assert len(full) > len(audit)


def test_the_cli_and_every_use_case_apply_the_same_rule_when_a_principal_is_given(engine: Engine, world: World) -> None:
    def as_admin_a(session: Session, fn: Callable[[Session], object]) -> None:
        session.info["principal"] = load_principal(session, users.get_user(session, "admin-a"), "password")
        fn(session)

    for attempt, error in (
        (lambda s: users.grant(s, "viewer-of-a", Role.ADMIN, None), ForbiddenError),
        (lambda s: users.create_api_key(s, "root", "x"), NotFoundError),
        (lambda s: users.disable_user(s, "root"), NotFoundError),
    ):
        try:
            system(engine, lambda s, a=attempt: as_admin_a(s, a))
        except error:
            continue
        raise AssertionError(f"{attempt} was allowed")
    system(engine, lambda s: users.grant(s, "viewer-of-a", Role.ADMIN, None))  # the system itself may
