"""Login throttles an attacker cannot turn against the real user, failed logins audited, no user enumeration.

Each test reproduces a finding of the outside test: fifty wrong passwords locked an account for
everyone and every account behind the same address; behind a proxy every client shared one
address; an unknown name answered a hundred times faster than a known one; failures left no trace.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api_fixtures import ADMIN_PASSWORD, MakeUser, login
from twin.app import create_app
from twin.auth.roles import Role
from twin.settings import Settings

ATTACKER, VICTIM_HOME, PROXY = "203.0.113.66", "198.51.100.7", "10.0.0.5"
FREE_FAILURES = 5
"""Failures a pair may make before it waits (``twin.auth.throttle``, imported where needed, so that
these tests run, and fail, on a server without it)."""
At = Callable[[str], TestClient]


@pytest.fixture
def app(settings: Settings, db_url: str) -> Iterator[FastAPI]:
    """One server trusting the proxy PROXY, started once."""
    server = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/24"]}), db_url=db_url)
    with TestClient(server):
        yield server


@pytest.fixture
def at(app: FastAPI) -> At:
    """Clients of the server, each from an address of its own."""
    return lambda address: TestClient(app, client=(address, 40000))


def _try(client: TestClient, username: str, password: str, **headers: str) -> int:
    response = client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)
    return response.status_code


def test_an_attacker_does_not_lock_the_real_user_out(at: At, make_user: MakeUser) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    attacker = at(ATTACKER)
    answers = [_try(attacker, "victim", f"guess-{n:04d}-guess") for n in range(50)]
    assert answers[:FREE_FAILURES] == [401] * FREE_FAILURES
    assert set(answers[FREE_FAILURES:]) == {429}, "the attacker's pair is not slowed down"
    assert _try(attacker, "victim", ADMIN_PASSWORD) == 429, "the attacker got through with the right password"
    assert _try(at(VICTIM_HOME), "victim", ADMIN_PASSWORD) == 200, "the real user is locked out from home"


def test_failing_on_one_account_does_not_block_another_from_the_same_address(at: At, make_user: MakeUser) -> None:
    make_user("alice", grants=[(Role.VIEWER, None, None)])
    make_user("bob", grants=[(Role.VIEWER, None, None)])
    office = at("192.0.2.10")  # one NAT for the whole office
    for _ in range(FREE_FAILURES):
        assert _try(office, "alice", "wrong-wrong-wrong") == 401
    assert _try(office, "alice", ADMIN_PASSWORD) == 429
    assert _try(office, "bob", ADMIN_PASSWORD) == 200, "bob is blocked by alice's failures"


def test_an_address_failing_across_accounts_meets_a_cap(
    at: At, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twin.auth import throttle

    monkeypatch.setattr(throttle, "ADDRESS_CAP", 6)
    make_user("carol", grants=[(Role.VIEWER, None, None)])
    sprayer = at(ATTACKER)
    for n in range(6):
        assert _try(sprayer, f"user{n}", "spray-spray-spray") == 401
    blocked = sprayer.post("/api/auth/login", json={"username": "carol", "password": ADMIN_PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert _try(at(VICTIM_HOME), "carol", ADMIN_PASSWORD) == 200


def test_the_wait_grows_with_each_failure() -> None:
    from twin.auth import throttle

    assert throttle.FREE_FAILURES == FREE_FAILURES
    waits = [throttle.pair_wait(n) for n in range(1, 14)]
    assert waits[: throttle.FREE_FAILURES - 1] == [0.0] * (FREE_FAILURES - 1)
    assert waits[FREE_FAILURES - 1] == throttle.FIRST_WAIT_S
    grown = waits[FREE_FAILURES - 1 :]
    assert all(b == min(2 * a, throttle.MAX_WAIT_S) for a, b in zip(grown, grown[1:], strict=False))
    assert throttle.pair_wait(1000) == throttle.MAX_WAIT_S


def test_an_administrator_sees_and_clears_throttles(at: At, make_user: MakeUser) -> None:
    make_user("root", grants=[(Role.ADMIN, None, None)])
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    make_user("viewer", grants=[(Role.VIEWER, None, None)])
    attacker, admin = at(ATTACKER), at(VICTIM_HOME)
    admin.headers.update(login(admin, "root"))
    for _ in range(FREE_FAILURES):
        _try(attacker, "victim", "wrong-wrong-wrong")
    items = admin.get("/api/admin/throttles").json()["items"]
    pair = next(item for item in items if item["username"] == "victim")
    assert pair["address"] == ATTACKER and pair["failures"] == FREE_FAILURES and pair["blocked_until"]
    assert any(item["username"] is None and item["address"] == ATTACKER for item in items)
    assert admin.get("/api/admin/throttles", headers=login(admin, "viewer")).status_code == 403
    assert admin.delete("/api/admin/throttles").status_code == 422
    cleared = admin.delete("/api/admin/throttles", params={"username": "VICTIM"})
    assert cleared.status_code == 200 and cleared.json() == {"cleared": 1}
    assert _try(attacker, "victim", ADMIN_PASSWORD) == 200


def test_twin_user_unlock_clears_an_account(at: At, make_user: MakeUser, db_url: str, tmp_path: Path) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    attacker = at(ATTACKER)
    for _ in range(FREE_FAILURES):
        _try(attacker, "victim", "wrong-wrong-wrong")
    assert _try(attacker, "victim", ADMIN_PASSWORD) == 429
    env = {**os.environ, "TWIN_DATABASE_URL": db_url, "TWIN_HOME": str(tmp_path / "cli")}
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "user", "unlock", "victim"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _try(attacker, "victim", ADMIN_PASSWORD) == 200


def test_the_throttle_sees_the_client_behind_a_trusted_proxy_only(
    at: At, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    proxy = at(PROXY)
    for _ in range(FREE_FAILURES):
        assert _try(proxy, "victim", "wrong-wrong-wrong", **{"X-Forwarded-For": f"1.2.3.4, {ATTACKER}"}) == 401
    assert _try(proxy, "victim", ADMIN_PASSWORD, **{"X-Forwarded-For": ATTACKER}) == 429
    assert _try(proxy, "victim", ADMIN_PASSWORD, **{"X-Forwarded-For": VICTIM_HOME}) == 200, "the proxy is one client"
    # A client that is not a trusted proxy cannot choose its address by writing the header.
    for _ in range(FREE_FAILURES):
        _try(at(ATTACKER), "victim", "wrong-wrong-wrong", **{"X-Forwarded-For": VICTIM_HOME})
    assert _try(at(ATTACKER), "victim", ADMIN_PASSWORD, **{"X-Forwarded-For": VICTIM_HOME}) == 429
    with psycopg.connect(postgis_conninfo) as conn:
        addresses = {row[0] for row in conn.execute("SELECT address FROM audit_log WHERE action = 'auth.login_failed'")}
    assert addresses == {ATTACKER}


def test_failed_logins_are_audited_with_the_address_and_without_the_password(
    at: At, make_user: MakeUser, postgis_conninfo: str
) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    make_user("robot", password=None, grants=[(Role.VIEWER, None, None)])
    attacker = at(ATTACKER)
    for name in ("victim", "nobody", "robot"):
        assert _try(attacker, name, "secret-guess-7781") == 401
    with psycopg.connect(postgis_conninfo) as conn:
        rows = conn.execute(
            "SELECT address, after->>'username', after->>'reason', after::text FROM audit_log"
            " WHERE action = 'auth.login_failed' ORDER BY id"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (ATTACKER, "victim", "wrong password"),
        (ATTACKER, "nobody", "unknown"),
        (ATTACKER, "robot", "not allowed to log in"),
    ]
    assert not any("secret-guess" in row[3] for row in rows)


def test_an_unknown_name_takes_as_long_as_a_known_one(at: At, make_user: MakeUser) -> None:
    make_user("victim", grants=[(Role.VIEWER, None, None)])
    clients = iter(at(f"192.0.2.{n}") for n in range(100, 200))

    def timed(username: str) -> float:
        client = next(clients)  # a fresh address each time, so no throttle answers instead
        started = time.perf_counter()
        assert _try(client, username, "wrong-wrong-wrong") == 401
        return time.perf_counter() - started

    timed("warm-up")
    known = statistics.median(timed("victim") for _ in range(5))
    unknown = statistics.median(timed(f"ghost{n}") for n in range(5))
    assert unknown >= 0.5 * known, f"unknown names answer in {unknown * 1000:.0f} ms, known in {known * 1000:.0f} ms"
