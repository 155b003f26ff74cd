"""Kept principals against a real PostgreSQL: used between requests, forgotten at any change.

The changes here are made as another process would make them (a connection of their own, plain
SQL), so only the store's triggers and the server's listener can tell the server about them.
"""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.waiting import eventually
from twin.auth.principal_cache import PrincipalCache
from twin.auth.roles import Role
from twin.auth.scope import Principal


def _cache(client: TestClient) -> PrincipalCache:
    cache: PrincipalCache = client.app.state.runtime.principals  # type: ignore[attr-defined]
    return cache


def _live(client: TestClient) -> PrincipalCache:
    cache = _cache(client)
    assert eventually(lambda: cache.live), "the security listener did not connect"
    return cache


def test_a_kept_principal_serves_the_next_requests(client: TestClient) -> None:
    cache = _live(client)
    assert client.get("/api/me").status_code == 200
    hits = cache.hits
    for _ in range(3):
        assert client.get("/api/sites").status_code == 200
    assert cache.hits == hits + 3


def test_an_account_disabled_by_another_process_is_refused(
    client: TestClient, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("temp", grants=[(Role.VIEWER, None, None)])
    headers = login(client, "temp")
    cache = _live(client)
    assert client.get("/api/sites", headers=headers).status_code == 200
    assert client.get("/api/sites", headers=headers).status_code == 200
    assert cache.get(_user_id(postgis_conninfo, "temp")) is not None
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        conn.execute("UPDATE users SET disabled = true WHERE username = 'temp'")
    assert eventually(lambda: client.get("/api/sites", headers=headers).status_code == 401, 2.0)


def test_a_grant_removed_by_another_process_stops_at_once(
    client: TestClient, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("op", grants=[(Role.OPERATOR, None, None)])
    headers = login(client, "op")
    _live(client)
    assert client.get("/api/me", headers=headers).json()["roles"] == ["operator"]
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM grants WHERE user_id = (SELECT id FROM users WHERE username = 'op')")
    # A change of grants ends the account's sessions (migration 0008b): its token no longer holds.
    assert eventually(lambda: client.get("/api/me", headers=headers).status_code == 401, 2.0)
    assert client.get("/api/me", headers=login(client, "op")).json()["roles"] == []


def test_nothing_is_kept_while_the_listener_is_away(client: TestClient, postgis_conninfo: str) -> None:
    cache = _live(client)
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'twin security listener'"
        )
    assert eventually(lambda: not cache.live), "the cache still trusts a listener that is gone"
    hits = cache.hits
    assert client.get("/api/sites").status_code == 200
    assert cache.get(_user_id(postgis_conninfo, "root")) is None and cache.hits == hits
    assert eventually(lambda: cache.live), "the listener did not come back"


def test_a_change_read_before_it_was_committed_is_not_kept() -> None:
    cache = PrincipalCache()
    cache.set_live(True)

    def read_during_a_change() -> Principal:
        cache.forget()
        return Principal("late", ())

    assert cache.get_or_read(1, read_during_a_change) == Principal("late", ())
    assert cache.get(1) is None
    assert cache.get_or_read(1, lambda: Principal("fresh", ())) == Principal("fresh", ())
    assert cache.get(1) == Principal("fresh", ())


def _user_id(conninfo: str, username: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM users WHERE username = %s", [username]).fetchone()
    assert row is not None
    return int(row[0])
