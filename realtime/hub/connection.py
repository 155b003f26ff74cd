"""One WebSocket session: authenticate in-band, then subscribe, receive snapshots and deltas.

The token comes in the first message, not in the URL, so it never lands in an access log. Every
subscription is checked against the principal's grants when it is made; the principal is read
again from the store every ``RECHECK_S`` so a disabled account or a revoked grant ends the
session within a minute, and an expired token asks the client for a fresh one (close 4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.hub.access import resolve
from realtime.hub.hub import Hub, Subscription
from realtime.hub.outbox import Outbox
from realtime.hub.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_RESYNC,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHORIZED,
    Auth,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode,
    error,
    parse,
)
from realtime.hub.snapshot import snapshot
from twin.auth.authenticate import AuthenticationError, authenticate
from twin.auth.scope import Principal
from twin.store.engine import session_factory
from twin.telemetry.live import LiveTelemetry

log = logging.getLogger(__name__)
T = TypeVar("T")

RECHECK_S = 60.0
PING = encode({"type": "ping"})
PONG = encode({"type": "pong"})


class Closing(Exception):
    """End the session with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Connection:
    """The server side of one live socket."""

    def __init__(
        self, websocket: WebSocket, hub: Hub, engine: Engine, signing_key: str, live: LiveTelemetry | None
    ) -> None:
        """Serve ``websocket`` from ``hub``, checking tokens with ``signing_key`` against ``engine``'s store."""
        self.ws = websocket
        self.hub = hub
        self.engine = engine
        self.key = signing_key
        self.live = live
        self.principal: Principal | None = None
        self.token = ""
        self.subs: dict[str, Subscription] = {}
        self.last_heard = time.monotonic()
        self.outbox = Outbox(
            self._send, self._close, max_bytes=hub.config.max_queue_bytes, on_overflow=self._overflowed
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        def work() -> T:
            with session_factory(self.engine)() as session, session.begin():
                return fn(session, *args)

        return await asyncio.to_thread(work)

    async def _send(self, text: str) -> None:
        await self.ws.send_text(text)

    async def _close(self, code: int, reason: str) -> None:
        await self.ws.close(code, reason)

    def _overflowed(self) -> None:
        self.hub.counts.resyncs += 1
        self._drop_subscriptions()

    # -- the session -----------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the session until the client leaves, misbehaves or is closed by the hub."""
        await self.ws.accept()
        try:
            await self._authenticate()
        except Closing as close:
            await self._refuse(close)
            return
        assert self.principal is not None
        user = self.principal.username
        hub = self.hub
        if hub.connections.get(user, 0) >= hub.config.max_connections_per_user:
            await self._refuse(
                Closing(CLOSE_TOO_MANY, f"{user} already has {hub.config.max_connections_per_user} live connections")
            )
            return
        hub.connections[user] = hub.connections.get(user, 0) + 1
        hub.opened(self.outbox)
        try:
            self.outbox.put(
                encode(
                    {
                        "type": "ready",
                        "user": user,
                        "roles": sorted(self.principal.roles),
                        "heartbeat_s": hub.config.heartbeat_s,
                    }
                )
            )
            writer = asyncio.create_task(self.outbox.run())
            self._tasks = [writer, asyncio.create_task(self._heartbeat())]
            receiver = asyncio.create_task(self._receive())
            done, _ = await asyncio.wait([receiver, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None and not isinstance(task.exception(), Closing | WebSocketDisconnect):
                    log.warning("live session of %s failed: %r", user, task.exception())
            closing = next((t.exception() for t in done if isinstance(t.exception(), Closing)), None)
            receiver.cancel()
            if isinstance(closing, Closing):
                await self._refuse(closing)
        finally:
            self._drop_subscriptions()
            self.outbox.stop()
            for task in self._tasks:
                task.cancel()
            hub.closed(self.outbox)
            hub.connections[user] -= 1
            if hub.connections[user] <= 0:
                del hub.connections[user]

    async def _refuse(self, close: Closing) -> None:
        code = {CLOSE_UNAUTHORIZED: 401, CLOSE_FORBIDDEN: 403, CLOSE_TOO_MANY: 429, CLOSE_IDLE: 408}.get(close.code)
        with contextlib.suppress(Exception):
            if code is not None:
                await self.ws.send_text(error(close.reason, code).decode())
            elif close.code == CLOSE_RESYNC:
                await self.ws.send_text(encode({"type": "resync", "reason": close.reason}).decode())
            await self.ws.close(close.code, close.reason[:120])

    async def _authenticate(self) -> None:
        try:
            raw = await asyncio.wait_for(self._next_message(), self.hub.config.auth_timeout_s)
        except TimeoutError:
            raise Closing(CLOSE_UNAUTHORIZED, 'send {"type": "auth", "token": …} first') from None
        try:
            message = parse(raw)
        except ProtocolError as exc:
            raise Closing(CLOSE_UNAUTHORIZED, f"the first message must be auth: {exc.message}") from None
        if not isinstance(message, Auth):
            raise Closing(CLOSE_UNAUTHORIZED, 'the first message must be {"type": "auth", "token": …}')
        self.principal = await self._principal(message.token)
        self.token = message.token

    async def _principal(self, token: str) -> Principal:
        try:
            return await self._db(lambda s: authenticate(s, self.key, f"Bearer {token}", None))
        except AuthenticationError as exc:
            raise Closing(CLOSE_UNAUTHORIZED, exc.message) from None

    async def _next_message(self) -> str | bytes:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        self.last_heard = time.monotonic()
        text: str | None = message.get("text")
        if text is not None:
            return text
        data: bytes = message.get("bytes") or b""
        return data

    async def _receive(self) -> None:
        while True:
            raw = await self._next_message()
            try:
                message = parse(raw)
                if isinstance(message, Subscribe):
                    await self._subscribe(message)
                elif isinstance(message, Unsubscribe):
                    self._unsubscribe(message.sub)
                elif isinstance(message, Ping):
                    if message.answer:
                        self.outbox.put(PONG)
                elif isinstance(message, Auth):
                    await self._reauthenticate(message.token)
            except ProtocolError as exc:
                self.outbox.put(error(exc.message, exc.code, exc.sub))

    async def _heartbeat(self) -> None:
        config = self.hub.config
        checked = time.monotonic()
        while not self.outbox.closed:
            await asyncio.sleep(config.heartbeat_s)
            now = time.monotonic()
            if now - self.last_heard > config.idle_timeout_s:
                raise Closing(CLOSE_IDLE, f"nothing heard for {config.idle_timeout_s:.0f} s")
            self.outbox.put(PING)
            if now - checked >= RECHECK_S:
                checked = now
                await self._reauthenticate(self.token)

    async def _reauthenticate(self, token: str) -> None:
        principal = await self._principal(token)
        assert self.principal is not None
        if principal.username != self.principal.username:
            raise Closing(CLOSE_FORBIDDEN, "a session keeps its user; open a new connection for another")
        self.token = token
        if principal.grants != self.principal.grants:
            raise Closing(CLOSE_RESYNC, "your grants changed: subscribe afresh")

    # -- subscriptions ---------------------------------------------------------------------------

    async def _subscribe(self, request: Subscribe) -> None:
        if request.sub in self.subs:
            raise ProtocolError(f"subscription {request.sub!r} exists; unsubscribe it first", 422, request.sub)
        if len(self.subs) >= self.hub.config.max_subscriptions:
            raise ProtocolError(
                f"at most {self.hub.config.max_subscriptions} subscriptions per connection", 429, request.sub
            )
        principal = self.principal
        assert principal is not None
        target = await self._db(resolve, principal, request)
        if self.outbox.closed or request.sub in self.subs:
            return
        hub = self.hub
        stream = hub.stream(target.site_id)
        subscription = Subscription(request.sub, self.outbox, target, 1.0 / request.rate if request.rate else None)
        head = {"sub": request.sub, "scope": target.scope, "stream": stream.id}
        grant = {"kinds": sorted(target.kinds), "denied": list(target.denied)}
        resume = request.resume
        if resume is not None and resume.stream == stream.id:
            missed = stream.since(resume.seq)
            if missed is not None:
                entries = list(missed)
                subscription.held = None
                hub.add(subscription)
                self.subs[request.sub] = subscription
                self.outbox.put(
                    encode({"type": "resumed", **head, "seq": stream.seq, "replayed": len(entries), **grant})
                )
                hub.replay(subscription, entries)
                return
        hub.add(subscription)
        self.subs[request.sub] = subscription
        seq = stream.seq
        try:
            body = await self._db(snapshot, principal, target)
        except BaseException:
            self.subs.pop(request.sub, None)
            hub.remove(subscription)
            raise
        if self.subs.get(request.sub) is not subscription:
            return
        self._overlay(body)
        self.outbox.put(encode({"type": "snapshot", **head, "seq": seq, **grant, **body}))
        hub.go_live(subscription)

    def _overlay(self, body: dict[str, Any]) -> None:
        """Lay this process's newer live values over the stored ones (the table lags by a flush)."""
        live = self.live
        if live is None:
            return
        for device in body.get("devices", ()):
            state = device["state"]
            for quantity, value in live.latest(device["id"]).items():
                at = value["time"].timestamp()
                held = state.get(quantity)
                if held is None or held["time"] <= at:
                    state[quantity] = {"value": value["value"], "unit": value["unit"], "time": at}
            health = live.health_of(device["id"])
            if health is not None:
                device["health"] = health[0]
                device["last_seen"] = health[1].timestamp() if health[1] is not None else device["last_seen"]

    def _unsubscribe(self, sub: str) -> None:
        subscription = self.subs.pop(sub, None)
        if subscription is None:
            raise ProtocolError(f"no subscription {sub!r}", 404, sub)
        self.hub.remove(subscription)
        self.outbox.put(encode({"type": "unsubscribed", "sub": sub}))

    def _drop_subscriptions(self) -> None:
        for subscription in self.subs.values():
            self.hub.remove(subscription)
        self.subs.clear()
