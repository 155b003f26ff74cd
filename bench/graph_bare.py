"""The graph benchmark's second baseline: the bare SQL behind the thinnest HTTP endpoint.

The bare query alone (0.2–1.5 ms for most look-ups) is less than an HTTP round trip on this
machine, so "the API at most 2× the bare query" cannot hold for any web API, however thin. This
baseline asks the question that can be answered: what does the twin add to a request that does
the same SQL over the same HTTP server? It is an ASGI app in the benchmark's server process that
answers ``GET /bare/<case>?p=<JSON params>`` by running the case's SQL on one async psycopg
connection and sending the rows as JSON; no routing, authentication, session or validation.
Every other path goes to the twin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
import psycopg
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/bare/"


class BareSql:
    """Answer ``/bare/<case>`` with the case's rows; pass everything else to the wrapped app."""

    def __init__(self, app: ASGIApp, conninfo: str, statements: dict[str, str]) -> None:
        self.app = app
        self.conninfo = conninfo
        self.statements = statements
        self.conn: psycopg.AsyncConnection[Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.conn is None:
            self.conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        sql = self.statements[scope["path"][len(PREFIX) :]]
        params = orjson.loads(parse_qs(scope["query_string"].decode())["p"][0])
        rows = await (await self.conn.execute(sql, params)).fetchall()
        body = orjson.dumps([list(row) for row in rows], default=str)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
