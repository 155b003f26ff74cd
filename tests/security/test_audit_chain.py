"""The audit log cannot be rewritten unseen, even by the tables' owner, and the server cannot touch it at all.

What an outside tester did with the owner's SQL — rewrite an entry and recompute every later
hash, delete the newest entries — is repeated here against the real PostgreSQL, and both
``GET /api/audit/verify`` and ``twin audit verify`` must name what was done. The server's role
is refused by PostgreSQL itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.api_fixtures import MakeUser
from twin.audit import SEAL, audit, row_hash, seal_of, verify
from twin.audit_seal import AuditSeal
from twin.settings import get_settings
from twin.store.base import utcnow
from twin.store.engine import one_off_engine, session_factory
from twin.store.telemetry import create_partition_sql, drop_partition_sql


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    return (
        f"host={parsed.host} port={parsed.port} user={parsed.username} "
        f"password={parsed.password} dbname={parsed.database}"
    )


@pytest.fixture
def owner(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The tables' owner, as the outside tester had it: able to disable the append-only trigger."""
    with psycopg.connect(_conninfo(db_url), autocommit=True) as conn:
        yield conn


@pytest.fixture
def logged(client: TestClient, make_user: MakeUser) -> list[int]:
    """Ten entries on the chain, written by the CLI's path and the server's; their ids in order."""
    for n in range(4):
        make_user(f"clerk{n}")
    for n in range(6):
        assert client.post("/api/users", json={"username": f"api{n}", "password": "x" * 16}).status_code == 201
    items = client.get("/api/audit", params={"limit": 1000}).json()["items"]
    ids = sorted(row["id"] for row in items)
    assert len(ids) >= 10
    assert client.get("/api/audit/verify").json() == {"checked": len(ids), "ok": True, "broken": None}
    return ids


def _cli_verify(app_db_url: str, owner_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    from twin.cli import app

    monkeypatch.setenv("TWIN_DATABASE_URL", app_db_url)
    monkeypatch.setenv("TWIN_DATABASE_OWNER_URL", owner_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, " ".join(result.output.split())


def _rewrite_from(owner: psycopg.Connection[Any], victim: int) -> None:
    """Change one entry's actor and recompute its hash and every later one, as the owner may."""
    owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    owner.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = %s", (victim,))
    rows = owner.execute(
        "SELECT id, prev_hash, at, actor, address, action, object_kind, object_id, before, after "
        "FROM audit_log WHERE id >= %s ORDER BY id",
        (victim,),
    ).fetchall()
    prev = rows[0][1]
    for row_id, _, at, actor, address, action, kind, object_id, before, after in rows:
        digest = row_hash(prev, at, actor, address, action, kind, object_id, before, after)
        owner.execute("UPDATE audit_log SET prev_hash = %s, hash = %s WHERE id = %s", (prev, digest, row_id))
        prev = digest
    owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def test_a_row_rewritten_with_every_later_hash_recomputed_is_named(
    client: TestClient,
    logged: list[int],
    owner: psycopg.Connection[Any],
    db_url: str,
    app_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    victim = logged[len(logged) // 2]
    _rewrite_from(owner, victim)
    verdict = client.get("/api/audit/verify").json()
    assert verdict["ok"] is False
    assert verdict["broken"]["id"] == victim and "MAC" in verdict["broken"]["reason"]
    assert verdict["checked"] == logged.index(victim)
    code, output = _cli_verify(app_db_url, db_url, monkeypatch)
    assert code == 1 and f"broken at row {victim}" in output and "MAC" in output


def test_the_newest_rows_deleted_are_found_from_the_checkpoint(
    client: TestClient,
    logged: list[int],
    owner: psycopg.Connection[Any],
    db_url: str,
    app_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    owner.execute("DELETE FROM audit_log WHERE id >= %s", (logged[-3],))
    owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    verdict = client.get("/api/audit/verify").json()
    assert verdict["ok"] is False and verdict["checked"] == len(logged) - 3
    assert verdict["broken"]["id"] == logged[-1]
    assert "newest entries were deleted" in verdict["broken"]["reason"]
    assert f"ending at id {logged[-4]}" in verdict["broken"]["reason"]
    code, output = _cli_verify(app_db_url, db_url, monkeypatch)
    assert code == 1 and "newest entries were deleted" in output


def test_a_mac_removed_or_the_legacy_line_moved_is_named(
    client: TestClient, logged: list[int], owner: psycopg.Connection[Any]
) -> None:
    """Passing keyed entries off as entries from before the key does not work: the checkpoint keeps the line."""
    owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    owner.execute("UPDATE audit_log SET mac = NULL")
    owner.execute("UPDATE audit_chain SET legacy_until = %s", (len(logged),))
    owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    _rewrite_from(owner, logged[2])
    verdict = client.get("/api/audit/verify").json()
    assert verdict["broken"]["id"] == logged[0] and "no MAC" in verdict["broken"]["reason"]


def test_the_servers_role_cannot_change_the_audit_log_or_its_table(
    client: TestClient, logged: list[int], app_db_url: str
) -> None:
    with psycopg.connect(_conninfo(app_db_url), autocommit=True) as server:
        refused = [
            ("UPDATE audit_log SET actor = 'nobody' WHERE id = %s", (logged[0],)),
            ("DELETE FROM audit_log WHERE id = %s", (logged[-1],)),
            ("TRUNCATE audit_log", None),
            ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only", None),
            ("ALTER TABLE audit_log DISABLE TRIGGER ALL", None),
            ("ALTER TABLE audit_log ADD COLUMN note text", None),
            ("ALTER TABLE users DISABLE ROW LEVEL SECURITY", None),
            ("DROP TRIGGER audit_log_append_only ON audit_log", None),
            ("SET session_replication_role = replica", None),
            ("CREATE TABLE mine (id int)", None),
            ("UPDATE audit_chain SET legacy_until = 1000000", None),
            (
                "CREATE TABLE readings_2001_01 PARTITION OF readings FOR VALUES FROM ('2001-01-01') TO ('2001-02-01')",
                None,
            ),
        ]
        for statement, params in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                server.execute(statement, params)
        role = server.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert role.fetchone() == (False, False, False)
        owned = server.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert owned.fetchone() == (0,)
        assert server.execute("SELECT count(*) FROM audit_log").fetchone() == (len(logged),)
    assert client.get("/api/audit/verify").json()["ok"] is True


def test_the_servers_role_makes_and_drops_history_partitions_through_the_owner(app_db_url: str) -> None:
    from datetime import UTC, datetime

    name, call = create_partition_sql("readings", datetime(2001, 1, 15, tzinfo=UTC))
    with psycopg.connect(_conninfo(app_db_url), autocommit=True) as server:
        server.execute(call)
        server.execute(call)
        server.execute("INSERT INTO readings (device_id, quantity, time, value) VALUES (1, 'energy', '2001-01-02', 1)")
        assert server.execute(f"SELECT count(*) FROM {name}").fetchone() == (1,)
        with pytest.raises(psycopg.errors.RaiseException, match="not a history partition"):
            server.execute("SELECT twin_drop_partition('readings', 'audit_log')")
        server.execute(drop_partition_sql("readings", name))
        gone = server.execute("SELECT count(*) FROM pg_class WHERE relname = %s", (name,)).fetchone()
        assert gone == (0,)


def test_entries_before_the_key_are_checked_by_hash_and_the_checkpoint_file_by_its_mac(
    db_url: str, app_db_url: str, tmp_path: Path
) -> None:
    """Entries as migration 0008d leaves them (numbered, no MAC, counted as legacy) hold; keyed ones follow."""
    seal = seal_of(tmp_path / "audit.key", tmp_path / "checkpoints.jsonl")
    with psycopg.connect(_conninfo(db_url), autocommit=True) as owner:
        prev = "0" * 64
        for seq in (1, 2, 3):
            at = utcnow()
            digest = row_hash(prev, at, "old", None, "user.create", "user", str(seq), None, {"n": seq})
            owner.execute(
                "INSERT INTO audit_log (at, actor, action, object_kind, object_id, after, prev_hash, hash, seq) "
                "VALUES (%s, 'old', 'user.create', 'user', %s, %s, %s, %s, %s)",
                (at, str(seq), json.dumps({"n": seq}), prev, digest, seq),
            )
            prev = digest
        owner.execute("UPDATE audit_chain SET legacy_until = 3")
    with one_off_engine(app_db_url) as engine:
        sessions = session_factory(engine, {SEAL: seal})
        with sessions() as session, session.begin():
            audit(session, action="user.create", kind="user", object_id=4, after={"n": 4})
        with sessions() as session:
            assert verify(session) == (4, None)
        lines = seal.checkpoints.read_text().splitlines()
        assert len(lines) == 1 and json.loads(lines[0])["seq"] == 4
        assert json.loads(lines[0])["legacy_until"] == 3
        other_key = AuditSeal(b"k" * 32, seal.checkpoints)
        with sessions() as session:
            session.info[SEAL] = other_key
            checked, broken = verify(session)
        assert checked == 0 and broken is not None and "signed with another key" in broken.reason
        forged = json.loads(lines[0]) | {"seq": 3}
        seal.checkpoints.write_text(json.dumps(forged) + "\n")
        with sessions() as session:
            checked, broken = verify(session)
        assert checked == 0 and broken is not None and broken.row_id is None
        assert "line 1" in broken.reason and "MAC" in broken.reason


def test_db_upgrade_grants_the_servers_role_and_a_role_without_rights_is_told_so(
    db_url: str, app_db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from twin.cli import app
    from twin.errors import ServiceError
    from twin.store.engine import check_schema

    with psycopg.connect(_conninfo(db_url), autocommit=True) as owner:
        owner.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM twin_app")
    with pytest.raises(ServiceError, match="may not read the schema") as refused:
        check_schema(app_db_url)
    assert "twin db upgrade" in str(refused.value.hint)
    monkeypatch.setenv("TWIN_DATABASE_URL", app_db_url)
    monkeypatch.setenv("TWIN_DATABASE_OWNER_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "rights granted to twin_app" in " ".join(result.output.split())
    check_schema(app_db_url)
    with psycopg.connect(_conninfo(app_db_url), autocommit=True) as server:
        assert server.execute("SELECT has_table_privilege('audit_log', 'INSERT')").fetchone() == (True,)
        assert server.execute("SELECT has_table_privilege('audit_log', 'UPDATE')").fetchone() == (False,)


def test_one_database_url_behaves_as_before_and_warns(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from twin.services import endpoints
    from twin.settings import Settings

    endpoints._warn_single_url.cache_clear()
    alone = Settings(home=tmp_path, database_url=db_url)
    with caplog.at_level("WARNING", logger="twin.services.endpoints"):
        assert endpoints.database_url(alone) == endpoints.owner_database_url(alone) == db_url
    assert "TWIN_DATABASE_OWNER_URL" in caplog.text
    assert endpoints.app_role(alone) is None
    both = Settings(home=tmp_path, database_url="postgresql://twin_app:a@db/twin", database_owner_url=db_url)
    assert endpoints.database_url(both) == "postgresql+psycopg://twin_app:a@db/twin"
    assert endpoints.owner_database_url(both) == db_url and endpoints.app_role(both) == "twin_app"


def test_concurrent_writers_as_the_servers_role_keep_one_sealed_chain(app_db_url: str, tmp_path: Path) -> None:
    """Four writers appending at once: every entry numbered once, MACed, and the last checkpoint the chain's end."""
    from concurrent.futures import ThreadPoolExecutor

    seal = seal_of(tmp_path / "audit.key", tmp_path / "checkpoints.jsonl")
    with one_off_engine(app_db_url) as engine:
        sessions = session_factory(engine, {SEAL: seal})

        def write(writer: int) -> None:
            for n in range(10):
                with sessions() as session, session.begin():
                    audit(session, action="user.update", kind="user", object_id=writer, after={"n": n})
                    audit(session, action="user.update", kind="user", object_id=writer, after={"n": n, "again": True})

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, range(4)))
        with sessions() as session:
            assert verify(session) == (80, None)
    lines = [json.loads(line) for line in seal.checkpoints.read_text().splitlines()]
    assert len(lines) == 40 and max(line["seq"] for line in lines) == 80


def test_migration_numbers_the_entries_before_it_and_verifies_them_by_hash(db_url: str, app_db_url: str) -> None:
    """Entries written under revision 0007 (no seq, no MAC) are numbered by 0008d and hold; keyed ones follow them."""
    from alembic import command

    from twin.store.engine import alembic_config, upgrade

    with one_off_engine(db_url) as engine, engine.begin() as conn:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    with psycopg.connect(_conninfo(db_url), autocommit=True) as owner:
        prev = "0" * 64
        for n in range(3):
            at = utcnow()
            digest = row_hash(prev, at, "old", None, "user.create", "user", str(n), None, None)
            owner.execute(
                "INSERT INTO audit_log (at, actor, action, object_kind, object_id, prev_hash, hash) "
                "VALUES (%s, 'old', 'user.create', 'user', %s, %s, %s)",
                (at, str(n), prev, digest),
            )
            prev = digest
    upgrade(db_url, "twin_app")
    with one_off_engine(app_db_url) as engine:
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            audit(session, action="user.create", kind="user", object_id=3)
        with sessions() as session:
            assert verify(session) == (4, None)
    with psycopg.connect(_conninfo(db_url)) as owner:
        rows = owner.execute("SELECT seq, mac IS NULL FROM audit_log ORDER BY id").fetchall()
        assert rows == [(1, True), (2, True), (3, True), (4, False)]
        assert owner.execute("SELECT legacy_until FROM audit_chain").fetchone() == (3,)
