"""A client's outgoing queue: bounded, coalescing telemetry, never dropping anything else.

Fan-out only appends here (memory work, no await), so no client can slow the ingest or the
other clients. The writer task drains the queue into frames as fast as the client's socket
accepts them. A client that keeps up gets every reading; once its queue backs up past
``coalesce_above`` (its socket is slow), a newer reading of a (device, quantity) replaces the
queued one and moves to the back, so it gets the latest values and its stream stays in sequence
order.
Alarms, tickets and the rest are never merged away: when they alone exceed the bound the client
is told to resynchronise and is closed, and its memory is released at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from realtime.hub.protocol import CLOSE_RESYNC, encode, frame

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]

COALESCE_ABOVE = 256 << 10
"""Queued bytes past which a client counts as slow and its telemetry is coalesced (about a second
of a busy floor: a hiccup of the client or the network costs it nothing)."""

FRAME_ITEMS = 256
"""At most this many messages in one frame: large enough to amortise a send, small enough to stream."""

_unique = itertools.count()


class Outbox:
    """The queue and writer of one connection."""

    def __init__(
        self,
        send: Send,
        close: Close,
        *,
        max_bytes: int,
        on_overflow: Callable[[], None],
        coalesce_above: int = COALESCE_ABOVE,
    ) -> None:
        """Queue for ``send``; past ``max_bytes`` queued, resynchronise and ``close``."""
        self._send = send
        self._close = close
        self._max_bytes = max_bytes
        self._on_overflow = on_overflow
        self._queue: OrderedDict[int, bytes] = OrderedDict()
        self._last: dict[tuple[int, str], int] = {}
        """The queue position of each (device, quantity)'s newest reading, for coalescing."""
        self._coalesce_above = coalesce_above
        self._bytes = 0
        self._wake = asyncio.Event()
        self._deferred: dict[tuple[int, str], bytes] = {}
        self._next_ok: dict[int, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._interval = 0.0
        self.closed = False
        self._overflowed = False
        self.mark = -1
        """The last event this client was offered: one client, one copy, however many subscriptions match."""
        self.sent_frames = 0
        self.sent_messages = 0
        self.coalesced = 0

    @property
    def queued_bytes(self) -> int:
        """Return what waits to be sent."""
        return self._bytes

    def put(self, payload: bytes, key: tuple[int, str] | None = None) -> None:
        """Queue a message; a telemetry ``key`` already queued is replaced by this newer value."""
        if self.closed:
            return
        queue = self._queue
        position = next(_unique)
        if key is not None:
            if self._bytes > self._coalesce_above:
                held = self._last.get(key)
                old = queue.pop(held, None) if held is not None else None
                if old is not None:
                    self._bytes -= len(old)
                    self.coalesced += 1
            self._last[key] = position
        queue[position] = payload
        self._bytes += len(payload)
        if self._bytes > self._max_bytes:
            self.overflow()
            return
        self._wake.set()

    def put_limited(self, payload: bytes, key: tuple[int, str], interval: float) -> None:
        """Queue telemetry at most once per ``interval`` per device; hold the newest meanwhile."""
        if self.closed:
            return
        now = time.monotonic()
        device = key[0]
        if now >= self._next_ok.get(device, 0.0):
            self._next_ok[device] = now + interval
            self.put(payload, key)
            return
        if key in self._deferred:
            self.coalesced += 1
        self._deferred[key] = payload
        self._interval = interval
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(interval, self._release)

    def _release(self) -> None:
        self._timer = None
        held, self._deferred = self._deferred, {}
        until = time.monotonic() + self._interval
        for key, payload in held.items():
            self._next_ok[key[0]] = until
            self.put(payload, key)

    def overflow(self) -> None:
        """Give up on a client too far behind: free its queue, tell it to resynchronise, close it."""
        if self.closed:
            return
        self._overflowed = True
        self.stop()
        self._on_overflow()

    async def run(self) -> None:
        """Send queued messages until closed; batch what accumulated while the socket was busy."""
        queue = self._queue
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._overflowed:
                await self._resync()
                return
            if self.closed:
                return
            while queue and not self.closed:
                items: list[bytes] = []
                while queue and len(items) < FRAME_ITEMS:
                    items.append(queue.popitem(last=False)[1])
                self._bytes -= sum(len(i) for i in items)
                await self._send(frame(items))
                self.sent_frames += 1
                self.sent_messages += len(items)

    async def _resync(self) -> None:
        try:
            await asyncio.wait_for(self._send(frame([encode({"type": "resync", "reason": "too far behind"})])), 2.0)
            await asyncio.wait_for(self._close(CLOSE_RESYNC, "too far behind: resubscribe"), 2.0)
        except (TimeoutError, OSError, RuntimeError) as exc:
            log.info("slow client dropped without a goodbye: %s", exc)

    def stop(self) -> None:
        """Stop queueing (the connection ended)."""
        self.closed = True
        self._queue.clear()
        self._last.clear()
        self._deferred.clear()
        self._bytes = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake.set()
