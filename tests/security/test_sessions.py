"""Sessions end when they should: logout, a password change, a disable, a grant change, a reused refresh token.

Each test reproduces a finding of the outside test: before sessions, every one of these tokens
kept working (a refresh token for 14 days, its access token for 15 minutes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api_fixtures import ADMIN_PASSWORD, MakeUser
from tests.twin.waiting import eventually
from twin.auth.roles import Role


def _login(client: TestClient, username: str, password: str = ADMIN_PASSWORD) -> dict[str, Any]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _refresh(client: TestClient, pair: dict[str, Any]) -> Any:
    return client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})


def _me(client: TestClient, pair: dict[str, Any]) -> int:
    return client.get("/api/me", headers=_bearer(pair)).status_code


def _twin(db_url: str, home: Path, *args: str) -> None:
    env = {**os.environ, "TWIN_DATABASE_URL": db_url, "TWIN_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "twin.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_logout_ends_the_refresh_family_and_its_access_token(anon_client: TestClient, make_user: MakeUser) -> None:
    make_user("ops", grants=[(Role.OPERATOR, None, None)])
    pair, other = _login(anon_client, "ops"), _login(anon_client, "ops")
    renewed = _refresh(anon_client, pair).json()
    logout = anon_client.post("/api/auth/logout", json={"refresh_token": renewed["refresh_token"]})
    assert logout.status_code == 204
    assert _refresh(anon_client, renewed).status_code == 401, "the logged-out refresh token still works"
    assert _me(anon_client, renewed) == 401, "the logged-out session's access token still works"
    assert _me(anon_client, pair) == 401
    assert _me(anon_client, other) == 200, "logging out one session ended another"
    # With only the access token, logout ends its session too; a second logout is no error.
    assert anon_client.post("/api/auth/logout", headers=_bearer(other), json={}).status_code == 204
    assert _me(anon_client, other) == 401 and _refresh(anon_client, other).status_code == 401
    assert anon_client.post("/api/auth/logout", json={"refresh_token": other["refresh_token"]}).status_code == 204
    assert anon_client.post("/api/auth/logout", json={}).status_code == 401


def test_a_password_changed_by_the_cli_ends_every_session(
    anon_client: TestClient, make_user: MakeUser, db_url: str, tmp_path: Path
) -> None:
    make_user("ops", grants=[(Role.OPERATOR, None, None)])
    first, second = _login(anon_client, "ops"), _login(anon_client, "ops")
    assert _me(anon_client, first) == 200
    _twin(db_url, tmp_path / "cli", "user", "passwd", "ops", "--password", "another long password")
    assert eventually(lambda: _me(anon_client, first) == 401, 2.0), "the access token outlived the password"
    assert _me(anon_client, second) == 401
    assert _refresh(anon_client, first).status_code == 401, "the refresh token outlived the password"
    assert _refresh(anon_client, second).status_code == 401
    assert _me(anon_client, _login(anon_client, "ops", "another long password")) == 200


def test_a_disable_or_a_grant_change_ends_every_session(client: TestClient, make_user: MakeUser) -> None:
    make_user("temp", grants=[(Role.VIEWER, None, None)])
    make_user("ops", grants=[(Role.VIEWER, None, None)])
    temp, ops = _login(client, "temp"), _login(client, "ops")
    assert client.post("/api/users/temp/disable").status_code == 200
    assert _refresh(client, temp).status_code == 401, "a disabled account's refresh token still works"
    added = client.post("/api/users/ops/grants", json={"role": "operator"})
    assert added.status_code == 201
    assert _me(client, ops) == 401, "a grant change left the session running"
    assert _refresh(client, ops).status_code == 401
    assert client.get("/api/me").status_code == 200, "the administrator's own session ended"


def test_a_reused_refresh_token_ends_the_token_issued_from_it(anon_client: TestClient, make_user: MakeUser) -> None:
    make_user("ops", grants=[(Role.OPERATOR, None, None)])
    stolen = _login(anon_client, "ops")
    issued = _refresh(anon_client, stolen).json()
    assert _me(anon_client, issued) == 200
    replay = _refresh(anon_client, stolen)
    assert replay.status_code == 401 and "used twice" in replay.json()["detail"]
    assert _refresh(anon_client, issued).status_code == 401, "the token issued from a reused one stays valid"
    assert _me(anon_client, issued) == 401


def test_a_user_lists_their_sessions_and_ends_one(
    anon_client: TestClient, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("ops", grants=[(Role.OPERATOR, None, None)])
    make_user("other", grants=[(Role.OPERATOR, None, None)])
    laptop = _login(anon_client, "ops")
    phone = anon_client.post(
        "/api/auth/login", json={"username": "ops", "password": ADMIN_PASSWORD}, headers={"User-Agent": "phone/1.0"}
    ).json()
    listed = anon_client.get("/api/auth/sessions", headers=_bearer(laptop))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2 and sum(item["current"] for item in items) == 1
    phone_session = next(item for item in items if item["user_agent"] == "phone/1.0")
    assert not phone_session["current"] and phone_session["address"] == "testclient"
    theirs = anon_client.get("/api/auth/sessions", headers=_bearer(_login(anon_client, "other"))).json()["items"][0]
    assert anon_client.delete(f"/api/auth/sessions/{theirs['id']}", headers=_bearer(laptop)).status_code == 404
    assert anon_client.delete(f"/api/auth/sessions/{phone_session['id']}", headers=_bearer(laptop)).status_code == 204
    assert _me(anon_client, phone) == 401 and _refresh(anon_client, phone).status_code == 401
    assert _me(anon_client, laptop) == 200
    assert [
        item["current"] for item in anon_client.get("/api/auth/sessions", headers=_bearer(laptop)).json()["items"]
    ] == [True]
    with psycopg.connect(postgis_conninfo) as conn:
        ended = conn.execute("SELECT after->>'why' FROM audit_log WHERE action = 'session.end'").fetchall()
    assert ended == [("revoked",)]


def test_the_session_routes_declare_their_answers(anon_client: TestClient) -> None:
    paths = anon_client.get("/openapi.json").json()["paths"]
    listed = paths["/api/auth/sessions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/SessionList"}
    assert "204" in paths["/api/auth/sessions/{session_id}"]["delete"]["responses"]
    assert "204" in paths["/api/auth/logout"]["post"]["responses"]


def test_an_account_with_sessions_and_grants_can_be_removed(
    anon_client: TestClient, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("gone", grants=[(Role.OPERATOR, None, None), (Role.VIEWER, None, None)])
    pair = _login(anon_client, "gone")
    _refresh(anon_client, pair)
    with psycopg.connect(postgis_conninfo) as conn:
        conn.execute("DELETE FROM users WHERE username = 'gone'")
    assert _me(anon_client, pair) == 401
