"""A site's stream of events: its sequence numbers and the bounded ring that lets clients resume.

One stream per site and per server run: its id joins the site and a token of this run, so a
client that comes back after a server restart (or lands on another instance) names a stream that
is not held here, and gets a fresh snapshot instead of a replay with holes in it.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

RUN_TOKEN = secrets.token_hex(4)
"""Distinguishes this process's streams from those of earlier runs and other instances."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One event as every subscriber gets it: encoded once, with what fan-out needs to route it."""

    seq: int
    kind: str
    scopes: tuple[str, ...]
    device_kind: str | None
    key: tuple[int, str] | None
    """(device, quantity) for telemetry, which a slow client's queue coalesces; None otherwise."""
    payload: bytes
    at: float


class Stream:
    """Sequence numbers and the recent events of one site."""

    def __init__(self, site_id: int, capacity: int, max_age_s: float) -> None:
        """Start at sequence 0 with an empty ring of ``capacity`` events at most ``max_age_s`` old."""
        self.site_id = site_id
        self.id = f"site:{site_id}@{RUN_TOKEN}"
        self.seq = 0
        self._ring: deque[Entry] = deque(maxlen=capacity)
        self._max_age_s = max_age_s

    def next_seq(self) -> int:
        """Take the next sequence number."""
        self.seq += 1
        return self.seq

    def keep(self, entry: Entry) -> None:
        """Hold an event for clients that may resume after it."""
        self._ring.append(entry)

    def since(self, seq: int) -> Iterator[Entry] | None:
        """Return the events after ``seq``, or None when some of them are no longer held."""
        if seq > self.seq:
            return None
        if seq == self.seq:
            return iter(())
        ring = self._ring
        first = len(ring) - (self.seq - seq)
        if first < 0 or ring[first].at < time.monotonic() - self._max_age_s:
            return None  # a replay that long is slower to apply than a fresh snapshot
        return (ring[i] for i in range(first, len(ring)))
