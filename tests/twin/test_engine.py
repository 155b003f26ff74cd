"""The pooled engine against a real PostgreSQL: a connection the server closed is never handed out."""

from __future__ import annotations

import psycopg

from tests.twin.waiting import eventually
from twin.store.engine import make_engine


def test_a_connection_the_server_closed_is_replaced_at_checkout(db_url: str, postgis_conninfo: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(postgis_conninfo, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        assert eventually(lambda: _gone(postgis_conninfo, pid))
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def _gone(conninfo: str, pid: int | None) -> bool:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,)
