"""The hot read-only lists, run on the server's event loop by their own few asynchronous connections.

A list whose SQL takes a millisecond spent a good part of as long again getting there through
the thread pool: the hop to a worker thread and back, and the two threads taking turns at the
interpreter. The reader runs a :class:`~twin.store.prepared.Question` (SQL that SQLAlchemy
built and compiled, so the store still has one way of writing SQL) on an autocommit psycopg
connection of its own, awaited on the loop (the gain, measured: docs/graph.md).

It holds at most ``size`` connections, opened when first needed and bound to the loop that opened
them: a server has one loop for its life, a test client one per ``with``, and connections of a
loop that is gone are dropped rather than awaited on the wrong one. An idle connection the
server has left (``twin.store.engine.server_left``) is replaced before a question is sent on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import Dialect

from twin.store.engine import server_left
from twin.store.prepared import Question

Watcher = Callable[[str, Mapping[str, Any]], None]
"""Told each statement the reader sends, with its parameters (the graph benchmark records them)."""


class Reader:
    """A small pool of asynchronous autocommit connections for questions asked on the event loop."""

    def __init__(self, conninfo: str, dialect: Dialect, size: int = 8) -> None:
        self._conninfo = conninfo
        self._dialect = dialect
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self.watchers: list[Watcher] = []

    async def one(self, question: Question) -> Sequence[Any]:
        """Run a question; return its single row."""
        sql, parameters = question.prepared(self._dialect)
        for watch in self.watchers:
            watch(sql, parameters)
        async with self._connection() as connection:
            cursor = await connection.execute(sql, parameters)
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("the question returned no row")
        answer: Sequence[Any] = row
        return answer

    async def close(self) -> None:
        """Close the idle connections (at the server's shutdown)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Lend a connection for one question; one that failed is closed, not given back."""
        self._follow_loop()
        async with self._slots:
            connection = await self._take()
            try:
                yield connection
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)

    async def _take(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            connection = self._idle.pop()
            if not server_left(connection):
                return connection
            await connection.close()
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    def _follow_loop(self) -> None:
        """Start afresh on a new event loop: the old loop's connections cannot be awaited on this one."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        for connection in self._idle:
            connection.pgconn.finish()
        self._idle = []
        self._slots = asyncio.Semaphore(self._size)
        self._loop = loop
