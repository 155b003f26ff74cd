"""The graph benchmark's baselines: the API's own SQL, run bare and behind the thinnest HTTP endpoint.

"The same SQL run bare" is taken literally: :func:`capture` asks each question once through the
API in this process and records every statement the request sent to PostgreSQL after
authentication, with its parameters as the driver received them. The bare side replays exactly
those statements on a psycopg connection: the same text, the same JSON rendering, the same plan.

:class:`BareSql` replays them behind HTTP: an ASGI app in the benchmark's server process that
answers ``GET /bare/<case>?i=<n>`` by running question ``n``'s statements on one async psycopg
connection and sending the last one's rows (the JSON text the API's statement rendered, as it
is); no routing, authentication, session or
validation. ``GET /bare/`` alone answers ``{}`` without SQL: HTTP itself. Every other path goes
to the twin. Together they say what HTTP costs on this machine, with and without the driver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import orjson
import psycopg
from sqlalchemy import event
from starlette.types import ASGIApp, Receive, Scope, Send

from twin.runtime import Runtime

PREFIX = "/bare/"
ACCOUNT = re.compile(r"\bFROM users\b")
"""The account's own query, which a warm server does not send."""
Statement = tuple[str, Any]
"""One statement as the driver received it: its text and parameters."""
Replay = list[list[Statement]]
"""A case's questions, each the statements its request ran."""


@contextmanager
def recording(runtime: Runtime) -> Iterator[list[Statement]]:
    """Collect the statements the server sends while the block runs: through its engine and its event loop's reader."""
    sent: list[Statement] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    def watch(statement: str, parameters: Any) -> None:
        sent.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", note)
    runtime.reader.watchers.append(watch)
    try:
        yield sent
    finally:
        event.remove(runtime.engine, "before_cursor_execute", note)
        runtime.reader.watchers.remove(watch)


def capture(runtime: Runtime, ask: Callable[[int], Any], count: int) -> Replay:
    """Ask questions ``0..count-1`` through the API in-process; return the SQL each one ran.

    The account's own query is left out (a warm server keeps the principal), and the asking is
    checked: a question the API refuses has no SQL worth replaying.
    """
    replay: Replay = []
    for i in range(count):
        with recording(runtime) as sent:
            response = ask(i)
        assert response.status_code == 200, response.text
        replay.append([(sql, params) for sql, params in sent if not ACCOUNT.search(sql)])
        assert replay[-1], f"question {i} ran no SQL"
    return replay


def run_bare(conn: psycopg.Connection[Any], statements: list[Statement]) -> list[Any]:
    """Run one question's statements in order; return the rows of the last."""
    rows: list[Any] = []
    for sql, params in statements:
        rows = conn.execute(sql, params).fetchall()
    return rows


class BareSql:
    """Answer ``/bare/<case>?i=<n>`` with question n's replayed rows; pass everything else to the twin."""

    def __init__(self, app: ASGIApp, conninfo: str, cases: dict[str, Replay]) -> None:
        self.app = app
        self.conninfo = conninfo
        self.cases = cases
        self.conn: psycopg.AsyncConnection[Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        case = scope["path"][len(PREFIX) :]
        body = b"{}" if not case else await self._replayed(case, scope["query_string"])
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _replayed(self, case: str, query: bytes) -> bytes:
        """Run the case's question named by ``i`` in the query; return its rows as the API would send them."""
        if self.conn is None:
            self.conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        statements = self.cases[case][int(parse_qs(query.decode())["i"][0])]
        rows: list[Any] = []
        for sql, params in statements:
            rows = await (await self.conn.execute(sql, params)).fetchall()
        rendered = len(rows) == 1 and isinstance(rows[0][0], str)
        return rows[0][0].encode() if rendered else orjson.dumps([list(row) for row in rows], default=str)
