"""The hand-off from the MQTT network thread to asyncio, in batches and with back-pressure.

Waking the event loop once per message costs a ``call_soon_threadsafe`` (a self-pipe write and
a loop iteration) each time, which shows as 10–50 ms latency spikes at thousands of messages a
second. Here the network thread appends to a buffer and wakes the loop only when the buffer
goes from empty to non-empty; the loop then takes everything that accumulated as one batch.
When the buffer is full the network thread waits instead of dropping: it stops reading the
socket, so the broker keeps the rest (QoS 1, unacknowledged) until we catch up.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class InboxClosed(Exception):
    """The inbox was closed while a producer waited for room."""


class Inbox(Generic[T]):
    """A bounded, thread-safe buffer drained by one asyncio consumer in batches."""

    def __init__(self, capacity: int = 10_000, max_batch: int = 1_000) -> None:
        """Hold at most ``capacity`` items; hand out at most ``max_batch`` at a time."""
        if capacity < 1 or max_batch < 1:
            raise ValueError("capacity and max_batch must be at least 1")
        self.capacity, self.max_batch = capacity, max_batch
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None
        self._closed = False
        self.wakeups = 0
        """How many times the producer woke the loop: one per batch, not per message."""

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the loop to wake; called by the consumer before the producer starts."""
        self._loop = loop
        self._ready = asyncio.Event()

    def put(self, item: T, timeout: float | None = None) -> bool:
        """Append ``item`` from any thread, waiting while full; return False on timeout."""
        with self._room:
            if not self._room.wait_for(lambda: self._closed or len(self._items) < self.capacity, timeout):
                return False
            if self._closed:
                raise InboxClosed("the inbox is closed")
            was_empty = not self._items
            self._items.append(item)
        if was_empty:
            self._wake()
        return True

    def _wake(self) -> None:
        loop, ready = self._loop, self._ready
        if loop is None or ready is None or loop.is_closed():
            return
        self.wakeups += 1
        try:
            loop.call_soon_threadsafe(ready.set)
        except RuntimeError:
            pass  # the loop closed between the check and the call: nobody is left to wake

    def take(self) -> list[T]:
        """Remove and return up to ``max_batch`` items without waiting."""
        with self._room:
            n = min(len(self._items), self.max_batch)
            batch = [self._items.popleft() for _ in range(n)]
            if n:
                self._room.notify_all()
        return batch

    def __len__(self) -> int:
        """Return how many items wait."""
        return len(self._items)

    def close(self) -> None:
        """Stop accepting items; the consumer still drains what is there, then ends."""
        with self._room:
            self._closed = True
            self._room.notify_all()
        self._wake()

    async def batches(self) -> AsyncIterator[list[T]]:
        """Yield batches as they accumulate, until closed and drained."""
        if self._ready is None:
            self.bind(asyncio.get_running_loop())
        assert self._ready is not None
        while True:
            self._ready.clear()
            batch = self.take()
            if batch:
                yield batch
                continue
            if self._closed:
                return
            await self._ready.wait()
