"""The event loop's reader against a real PostgreSQL: it survives what the server does to its connections."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import BigInteger, func, select

from tests.twin.waiting import eventually
from twin.store.engine import driver_conninfo, make_engine
from twin.store.prepared import Question, value
from twin.store.reader import Reader

PID = Question(("test reader", "pid"), lambda: select(func.pg_backend_pid()), {})


def _reader(db_url: str) -> Reader:
    engine = make_engine(db_url)
    try:
        return Reader(driver_conninfo(engine), engine.dialect, size=2)
    finally:
        engine.dispose()


def test_a_connection_the_server_closed_is_replaced(db_url: str, postgis_conninfo: str) -> None:
    reader = _reader(db_url)

    async def ask() -> Any:
        return (await reader.one(PID))[0]

    async def scenario() -> None:
        pid = await ask()
        assert await ask() == pid, "an idle connection is lent again"
        with psycopg.connect(postgis_conninfo, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        assert eventually(lambda: _gone(postgis_conninfo, pid))
        assert await ask() != pid
        await reader.close()

    asyncio.run(scenario())


def test_a_failed_question_costs_its_connection_only(db_url: str) -> None:
    reader = _reader(db_url)
    cast = Question(
        ("test reader", "cast"), lambda: select(value("n", BigInteger()).cast(BigInteger) * 2), {"n": 2**62}
    )

    async def scenario() -> None:
        pid = (await reader.one(PID))[0]
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            await reader.one(cast)
        assert (await reader.one(PID))[0] != pid, "the failed connection was closed, not given back"
        assert (await reader.one(Question(cast.key, cast.build, {"n": 21})))[0] == 42
        await reader.close()

    asyncio.run(scenario())


def test_a_new_event_loop_starts_afresh(db_url: str) -> None:
    reader = _reader(db_url)

    async def ask() -> Any:
        return (await reader.one(PID))[0]

    first = asyncio.run(ask())
    second = asyncio.run(ask())
    assert first != second, "the first loop's connection is not awaited on the second"
    asyncio.run(reader.close())


def _gone(conninfo: str, pid: int | None) -> bool:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,)
