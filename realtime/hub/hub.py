"""The hub: streams per site, subscriptions indexed by scope, and the fan-out between them.

An event is encoded once, kept in its site's ring, and offered to the subscriptions indexed under
each scope of its location path — five dictionary look-ups, whatever the number of clients —
so the cost of an event follows the clients it reaches. Everything here runs on the event loop
and never awaits: events from other threads (registry events after a commit) are handed over with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from realtime.hub.access import Target
from realtime.hub.outbox import Outbox
from realtime.hub.protocol import encode
from realtime.hub.stream import Entry, Stream
from realtime.state import Latest, StateKey
from twin.events import RegistryEvent
from twin.graph.paths import scopes

log = logging.getLogger(__name__)

REGISTRY_KINDS = {
    "alarm": "alarm",
    "ticket": "ticket",
    "billing": "billing",
    "import": "import",
    "device_health": "status",
    "inspection_plan": "inspection",
    "inspection_round": "inspection",
    "inspection_visit": "inspection",
}
"""Registry event kinds the hub carries, and the live kind each becomes."""

MAX_HELD = 100_000
"""Events held for one subscription while its snapshot is read; past that it resynchronises."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    """The hub's bounds (from the settings)."""

    ring_events: int = 50_000
    ring_age_s: float = 300.0
    max_queue_bytes: int = 8 << 20
    heartbeat_s: float = 15.0
    idle_timeout_s: float = 60.0
    auth_timeout_s: float = 10.0
    max_connections_per_user: int = 20
    max_subscriptions: int = 64


@dataclass(eq=False, slots=True)
class Subscription:
    """One client's interest in one scope."""

    sub: str
    outbox: Outbox
    target: Target
    interval: float | None = None
    held: list[Entry] | None = field(default_factory=list)
    """Events that arrived while the snapshot was read; None once the subscription is live."""

    def wants(self, entry: Entry) -> bool:
        """Tell whether this subscription receives an event that reached one of its roots."""
        if entry.kind not in self.target.kinds:
            return False
        kinds = self.target.device_kinds
        # A vendor receives only what concerns a device of its kinds: an event of no known kind is not its.
        return kinds is None or entry.device_kind in kinds


@dataclass
class HubCounts:
    """What the hub did, for /metrics and the benchmarks."""

    events: int = 0
    offered: int = 0
    resyncs: int = 0
    sent: int = 0
    frames: int = 0
    coalesced: int = 0
    """Of connections that ended; the open ones are summed from their outboxes."""


DeviceInfo = tuple[int, tuple[str, ...], str]
"""A device's site id, location scopes and kind."""


class Hub:
    """Routes events to subscriptions; one per server process."""

    def __init__(self, config: HubConfig | None = None) -> None:
        """Start with no subscriptions; ``attach`` binds it to the running event loop."""
        self.config = config or HubConfig()
        self.counts = HubCounts()
        self._index: dict[str, set[Subscription]] = {}
        self._streams: dict[int, Stream] = {}
        self._marks = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._device_of: Callable[[int], Any] = lambda _id: None
        self._device_cache: dict[int, tuple[Any, DeviceInfo]] = {}
        self.forward: Callable[[int, list[list[Any]]], None] | None = None
        """Set by the peer relay: local events go to the other instances through the broker."""
        self.connections: dict[str, int] = {}
        self.outboxes: set[Outbox] = set()

    def attach(self, loop: asyncio.AbstractEventLoop, device_of: Callable[[int], Any] | None = None) -> None:
        """Run on ``loop``; ``device_of`` returns a bound device (path, kind) by id, from the ingest."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        if device_of is not None:
            self._device_of = device_of

    # -- streams and subscriptions ---------------------------------------------------------------

    def stream(self, site_id: int) -> Stream:
        """Return a site's stream, started on first use."""
        stream = self._streams.get(site_id)
        if stream is None:
            stream = self._streams[site_id] = Stream(site_id, self.config.ring_events, self.config.ring_age_s)
        return stream

    def add(self, subscription: Subscription) -> None:
        """Index a subscription under its roots; events reach it from now on (held until ``go_live``)."""
        for root in subscription.target.roots:
            self._index.setdefault(root, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        """Stop routing to a subscription."""
        for root in subscription.target.roots:
            subs = self._index.get(root)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._index[root]

    def go_live(self, subscription: Subscription) -> None:
        """Queue what arrived while the snapshot was read, then route straight to the outbox."""
        held, subscription.held = subscription.held or [], None
        for entry in held:
            self._offer(subscription, entry)

    def replay(self, subscription: Subscription, entries: list[Entry]) -> None:
        """Queue the events a resuming subscription missed, as its scope and kinds select them."""
        roots = set(subscription.target.roots)
        for entry in entries:
            if subscription.wants(entry) and not roots.isdisjoint(entry.scopes):
                self._offer(subscription, entry)

    def opened(self, outbox: Outbox) -> None:
        """Count a connection's outbox while it lives."""
        self.outboxes.add(outbox)

    def closed(self, outbox: Outbox) -> None:
        """Fold an ended connection's counts into the totals."""
        self.outboxes.discard(outbox)
        self.counts.sent += outbox.sent_messages
        self.counts.frames += outbox.sent_frames
        self.counts.coalesced += outbox.coalesced

    @property
    def subscriptions(self) -> int:
        """Return how many (scope, subscription) pairs are indexed."""
        return sum(len(s) for s in self._index.values())

    # -- events in -------------------------------------------------------------------------------

    def emit(
        self,
        site_id: int,
        kind: str,
        path: tuple[str, ...],
        device_kind: str | None,
        key: tuple[int, str] | None,
        data: dict[str, Any],
    ) -> Entry:
        """Sequence, encode, keep and route one event; return it."""
        stream = self.stream(site_id)
        seq = stream.next_seq()
        message = {"type": "event", "stream": stream.id, "seq": seq, "kind": kind, "path": path, "data": data}
        entry = Entry(seq, kind, path, device_kind, key, encode(message), time.monotonic())
        stream.keep(entry)
        self.counts.events += 1
        mark = next(self._marks)
        index = self._index
        for scope in path:
            subs = index.get(scope)
            if subs is None:
                continue
            for subscription in subs:
                if subscription.held is not None:
                    if subscription.wants(entry):
                        self._hold(subscription, entry)
                    continue
                box = subscription.outbox
                if box.mark != mark and subscription.wants(entry):
                    box.mark = mark
                    self._offer(subscription, entry)
        return entry

    def _hold(self, subscription: Subscription, entry: Entry) -> None:
        held = subscription.held
        assert held is not None
        if len(held) >= MAX_HELD:
            subscription.outbox.overflow()
            return
        held.append(entry)

    def _offer(self, subscription: Subscription, entry: Entry) -> None:
        self.counts.offered += 1
        if subscription.interval is not None and entry.key is not None:
            subscription.outbox.put_limited(entry.payload, entry.key, subscription.interval)
        else:
            subscription.outbox.put(entry.payload, entry.key)

    def device(self, device_id: int) -> DeviceInfo | None:
        """Return a bound device's site, scopes and kind (cached while its binding is unchanged)."""
        bound = self._device_of(device_id)
        if bound is None:
            return None
        cached = self._device_cache.get(device_id)
        if cached is not None and cached[0] is bound:
            return cached[1]
        path = scopes(bound.path, device_id)
        info: DeviceInfo = (int(path[0][5:]), path, bound.kind)
        self._device_cache[device_id] = (bound, info)
        return info

    def readings(self, changes: list[tuple[StateKey, Latest]]) -> None:
        """Take one ingested batch of latest values (on the loop, from the ingest's state listener)."""
        forward: dict[int, list[list[Any]]] | None = {} if self.forward is not None else None
        for (device_id, quantity), latest in changes:
            info = self.device(device_id)
            if info is None:
                continue
            site_id, path, kind = info
            data = {
                "device_id": device_id,
                "quantity": quantity,
                "value": latest.value,
                "unit": latest.unit,
                "time": latest.time.timestamp(),
            }
            self.emit(site_id, "telemetry", path, kind, (device_id, quantity), data)
            if forward is not None:
                forward.setdefault(site_id, []).append(["telemetry", path, kind, [device_id, quantity], data])
        if forward and self.forward is not None:
            for site_id, items in forward.items():
                self.forward(site_id, items)

    def registry(self, event: RegistryEvent) -> None:
        """Take a committed registry event, from whichever thread committed it."""
        if event.kind not in REGISTRY_KINDS or not event.path:
            return
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._registry, event)
        else:
            self._registry(event)

    def _registry(self, event: RegistryEvent) -> None:
        kind = REGISTRY_KINDS[event.kind]
        site_id = int(event.path[0].removeprefix("site:"))
        data = {**event.data, "id": event.id, "action": event.action}
        if isinstance(data.get("path"), str):
            data["path"] = event.path  # the scopes, as everywhere on the wire, not the stored ltree
        device_kind = None
        if event.path[-1].startswith("device:"):
            device_id = int(event.path[-1][7:])
            data.setdefault("device_id", device_id)
            info = self.device(device_id)
            device_kind = info[2] if info is not None else data.get("device_kind")
            if device_kind is not None:
                data.setdefault("device_kind", device_kind)
        self.emit(site_id, kind, event.path, device_kind, None, data)
        if self.forward is not None:
            self.forward(site_id, [[kind, event.path, device_kind, None, data]])

    def remote(self, site_id: int, items: list[list[Any]]) -> None:
        """Take events another instance forwarded through the broker (on the loop)."""
        for kind, path, device_kind, key, data in items:
            self.emit(site_id, kind, tuple(path), device_kind, tuple(key) if key else None, data)
