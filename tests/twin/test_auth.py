"""Authentication: every route refuses strangers; tokens, keys, refresh and brute force."""

from __future__ import annotations

import re
import time

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import ADMIN_PASSWORD, MakeUser, login
from twin.auth.roles import Role

OPEN = {"/api/auth/login", "/api/auth/refresh", "/api/auth/emergency", "/healthz", "/readyz"}


def test_every_route_in_the_openapi_document_refuses_anonymous_access(anon_client: TestClient) -> None:
    paths = anon_client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, methods in paths.items():
        if path in OPEN:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in methods:
            response = anon_client.request(method.upper(), url, json={})
            assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code} anonymously"
            assert response.headers.get("www-authenticate") == "Bearer"
            checked += 1
    assert checked > 30
    assert anon_client.get("/metrics").status_code == 401


def test_login_refresh_rotation_and_me(anon_client: TestClient, make_user: MakeUser) -> None:
    make_user("ops", grants=[(Role.OPERATOR, None, None)])
    response = anon_client.post("/api/auth/login", json={"username": "ops", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    pair = response.json()
    me = anon_client.get("/api/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).json()
    assert me["username"] == "ops" and "alarm.ack" in me["permissions"] and "pii.read" not in me["permissions"]
    renewed = anon_client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200
    replay = anon_client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401, "a refresh token works once"
    assert anon_client.get("/api/me", headers={"Authorization": f"Bearer {pair['refresh_token']}"}).status_code == 401


@pytest.mark.parametrize("mutate", ["tampered", "expired", "audience", "garbage", "none-alg"])
def test_bad_tokens_are_refused(client: TestClient, mutate: str) -> None:
    token = client.headers["Authorization"].split()[1]
    key = client.app.state.runtime.settings.signing_key()  # type: ignore[attr-defined]
    claims = jwt.decode(token, key, algorithms=["HS256"], audience="twin-api")
    if mutate == "tampered":
        header, payload, signature = token.split(".")
        bad = f"{header}.{payload}.{signature[:-4]}AAAA"
    elif mutate == "expired":
        bad = jwt.encode({**claims, "exp": int(time.time()) - 10}, key, algorithm="HS256")
    elif mutate == "audience":
        bad = jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="HS256")
    elif mutate == "none-alg":
        bad = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    else:
        bad = "not-a-token"
    response = client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
    assert response.status_code == 401


def test_disabled_account_stops_at_once(client: TestClient, make_user: MakeUser) -> None:
    make_user("temp", grants=[(Role.VIEWER, None, None)])
    headers = login(client, "temp")
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.post("/api/users/temp/disable").status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 401


def test_brute_force_login_is_rate_limited(anon_client: TestClient, make_user: MakeUser) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    for _ in range(5):
        wrong = anon_client.post("/api/auth/login", json={"username": "victim", "password": "guess-guess"})
        assert wrong.status_code == 401
    blocked = anon_client.post("/api/auth/login", json={"username": "victim", "password": ADMIN_PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_api_keys_act_as_their_account_until_revoked(client: TestClient, make_user: MakeUser) -> None:
    make_user("simulator", password=None, grants=[(Role.VIEWER, None, None)])
    created = client.post("/api/apikeys", json={"username": "simulator", "name": "demo simulator"}).json()
    for headers in ({"X-API-Key": created["key"]}, {"Authorization": f"Bearer {created['key']}"}):
        me = client.get("/api/me", headers=headers)
        assert me.status_code == 200 and me.json()["username"] == "simulator" and me.json()["via"] == "apikey"
    assert client.delete(f"/api/apikeys/{created['prefix']}").status_code == 204
    assert client.get("/api/me", headers={"X-API-Key": created["key"]}).status_code == 401
    # The hot lists, served on the event loop, heed a key over the client's own token too.
    assert client.get("/api/devices", headers={"X-API-Key": created["key"]}).status_code == 401


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    big = {"name": "x" * (2 << 20), "origin_lat": 1, "origin_lon": 1}
    assert client.post("/api/sites", json=big).status_code == 413


def test_a_chunked_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    response = client.post("/api/sites", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
