"""A small client of the live hub, for tests, benchmarks and integrators.

It keeps one WebSocket open: authenticates with its first message, subscribes, answers the
hub's pings, and when the socket drops reconnects with backoff and subscribes again with the last
sequence number of each stream, so the hub replays what was missed (or sends a fresh snapshot).
Messages are handed out in arrival order through ``receive`` / ``messages``; frames that carry an
array of messages are unpacked.

    async with LiveClient("ws://127.0.0.1:8000/ws", token) as live:
        live.subscribe("floor:12", ["telemetry", "alarm"])
        async for message in live.messages():
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

log = logging.getLogger(__name__)

REFUSED = {4401, 4403, 4429}
"""Close codes after which reconnecting with the same token cannot help."""


class LiveRefused(Exception):
    """The hub refused the session (bad token, forbidden, too many connections)."""


@dataclass
class _Sub:
    scope: str
    kinds: list[str]
    rate: float | None
    stream: str | None = None


class LiveClient:
    """One live session that survives reconnects."""

    def __init__(
        self,
        url: str,
        token: str | Callable[[], str],
        *,
        reconnect: bool = True,
        backoff_s: tuple[float, float] = (0.2, 5.0),
        read_limit: int | None = None,
    ) -> None:
        """Connect to ``url`` (``ws://host:port/ws``) with a token (or a callable returning a fresh one)."""
        self.url = url
        self._token = token
        self.reconnect = reconnect
        self.backoff_s = backoff_s
        self.read_limit = read_limit
        self.subs: dict[str, _Sub] = {}
        self.seqs: dict[str, int] = {}
        """The highest sequence number seen on each stream."""
        self.state = "idle"
        self.connects = 0
        self.close_code: int | None = None
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._next = 1
        self._error: BaseException | None = None

    async def __aenter__(self) -> LiveClient:
        """Connect and wait until the hub said ready."""
        self.start()
        await self.wait_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the session."""
        await self.close()

    def start(self) -> None:
        """Start connecting in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the session is authenticated; raise LiveRefused if the hub said no."""
        ready = asyncio.create_task(self._ready.wait())
        assert self._task is not None
        done, _ = await asyncio.wait([ready, self._task], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise TimeoutError(f"the hub at {self.url} did not say ready within {timeout} s")

    async def close(self) -> None:
        """Stop for good."""
        self.reconnect = False
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, LiveRefused):
                await self._task
        self.state = "closed"

    def subscribe(self, scope: str, kinds: list[str] | None = None, rate: float | None = None) -> str:
        """Subscribe to a scope (``floor:12``); return the subscription id; sent now or at connection."""
        sub = f"s{self._next}"
        self._next += 1
        self.subs[sub] = _Sub(scope, kinds or ["telemetry", "status", "alarm", "ticket", "billing"], rate)
        if self._ready.is_set():
            self._send_subscribe(sub)
        return sub

    def unsubscribe(self, sub: str) -> None:
        """Stop a subscription."""
        if self.subs.pop(sub, None) is not None and self._ready.is_set():
            self._send({"type": "unsubscribe", "sub": sub})

    async def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """Return the next message (events, snapshots, errors…); pings are answered, not returned."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Yield messages as they arrive."""
        while True:
            yield await self._queue.get()

    def pending(self) -> int:
        """Return how many received messages wait to be read."""
        return self._queue.qsize()

    def raw(self) -> ClientConnection | None:
        """Return the current socket (benchmarks stop reading it to play a slow client)."""
        return self._ws

    # -- the connection loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
                attempt = 0
            except LiveRefused as exc:
                self._error = exc
                self.state = "refused"
                return
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                log.debug("live session to %s ended: %r", self.url, exc)
            self._ready.clear()
            self._ws = None
            if not self.reconnect:
                self.state = "closed"
                return
            self.state = "reconnecting"
            low, high = self.backoff_s
            await asyncio.sleep(min(high, low * 2**attempt) * (0.5 + random.random() / 2))
            attempt += 1

    async def _session(self) -> None:
        self.state = "connecting"
        async with connect(self.url, max_size=None, max_queue=self.read_limit) as ws:
            self._ws = ws
            self.connects += 1
            token = self._token() if callable(self._token) else self._token
            await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
            try:
                async for raw in ws:
                    data = orjson.loads(raw)
                    for message in data if isinstance(data, list) else [data]:
                        self._take(message)
            except ConnectionClosed as closed:
                self._closed(closed)
                raise
            self._closed(None)

    def _closed(self, closed: ConnectionClosed | None) -> None:
        ws = self._ws
        code = closed.rcvd.code if closed is not None and closed.rcvd is not None else None
        if code is None and ws is not None and ws.close_code is not None:
            code = ws.close_code
        self.close_code = code
        if code in REFUSED:
            raise LiveRefused(f"the hub closed the session with {code}: {ws.close_reason if ws else ''}")

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping":
            self._send({"type": "pong"})
            return
        if kind == "ready":
            self.state = "live"
            self._ready.set()
            for name in list(self.subs):
                self._send_subscribe(name)
        elif kind in ("snapshot", "resumed"):
            held = self.subs.get(message.get("sub", ""))
            if held is not None:
                held.stream = message["stream"]
            stream = message["stream"]
            self.seqs[stream] = max(self.seqs.get(stream, 0), int(message["seq"]))
        elif kind == "event":
            stream = message["stream"]
            self.seqs[stream] = max(self.seqs.get(stream, 0), int(message["seq"]))
        elif kind == "resync":
            self.seqs.clear()
            for each in self.subs.values():
                each.stream = None
        self._queue.put_nowait(message)

    def _send_subscribe(self, sub: str) -> None:
        s = self.subs[sub]
        message: dict[str, Any] = {"type": "subscribe", "sub": sub, "scope": s.scope, "kinds": s.kinds}
        if s.rate is not None:
            message["rate"] = s.rate
        if s.stream is not None and s.stream in self.seqs:
            message["resume"] = {"stream": s.stream, "seq": self.seqs[s.stream]}
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is not None:
            asyncio.get_running_loop().create_task(_quiet_send(ws, orjson.dumps(message).decode()))


async def _quiet_send(ws: ClientConnection, text: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(text)
