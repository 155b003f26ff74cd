"""Which twin device an MQTT identity names: the identifiers table, cached in memory.

A decoded reading names its device as (profile namespace, id). The binding is an identifier row
of the device, either in the profile's namespace (``zigbee2mqtt``, ``0x00158d…``) or in the
generic ``mqtt`` namespace spelled ``<namespace>/<id>``. Looking that up in PostgreSQL for every
reading would cost a round trip each; instead the whole table of bindings is loaded at once
(thousands of rows, milliseconds) and reloaded when a registry event says the graph changed, or
when an unknown identity shows up and the table is old enough that another server instance may
have bound it meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, text

from realtime.decode import Identity
from twin.catalogue import DEVICE_KINDS, DeviceKind
from twin.events import EventBus, RegistryEvent

log = logging.getLogger(__name__)

MQTT_NAMESPACE = "mqtt"
HEALTH_EVENT = "device_health"
"""The kind of the events the ingest itself publishes; they never invalidate bindings."""

_LOAD = text(
    """
    SELECT i.namespace, i.value, d.id, d.kind, d.path::text AS path, d.health, d.last_seen,
           d.properties ->> 'expected_interval_s' AS interval_override,
           (SELECT r.target_device_id FROM relations r
             WHERE r.kind = 'via' AND r.source_device_id = d.id AND r.target_device_id IS NOT NULL
             ORDER BY r.id LIMIT 1) AS via
      FROM identifiers i JOIN devices d ON d.id = i.device_id
     WHERE d.retired_at IS NULL AND i.namespace = ANY(:namespaces)
    """
)


@dataclass(frozen=True, slots=True)
class Bound:
    """A device that readings can reach, with what the health of it depends on."""

    device_id: int
    kind: str
    path: str
    interval_s: float
    """How often it is expected to report (its kind's, or ``expected_interval_s`` in its properties)."""
    via: int | None
    """The gateway it reaches us through (a ``via`` relation), if any."""
    health: str
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class BindingTable:
    """One consistent snapshot of the bindings."""

    by_identity: dict[Identity, Bound] = field(default_factory=dict)
    devices: dict[int, Bound] = field(default_factory=dict)
    loaded_at: float = 0.0


def expected_interval(kind: str, override: str | None) -> float:
    """Return a device's expected reporting interval in seconds."""
    if override is not None:
        try:
            value = float(override)
        except ValueError:
            value = 0.0
        if value > 0:
            return value
    try:
        info = DEVICE_KINDS[DeviceKind(kind)]
    except ValueError:
        info = DEVICE_KINDS[DeviceKind.OTHER]
    return float(info.expected_interval_s)


def load_bindings(engine: Engine, namespaces: Iterable[str]) -> BindingTable:
    """Read every binding in the given namespaces (and ``mqtt``) in one query."""
    names = sorted({*namespaces, MQTT_NAMESPACE})
    by_identity: dict[Identity, Bound] = {}
    devices: dict[int, Bound] = {}
    with engine.connect() as conn:
        for row in conn.execute(_LOAD, {"namespaces": names}):
            bound = devices.get(row.id)
            if bound is None:
                bound = Bound(
                    row.id,
                    row.kind,
                    row.path,
                    expected_interval(row.kind, row.interval_override),
                    row.via,
                    row.health,
                    row.last_seen,
                )
                devices[row.id] = bound
            if row.namespace == MQTT_NAMESPACE and "/" in row.value:
                namespace, _, value = row.value.partition("/")
                by_identity.setdefault((namespace, value), bound)
            else:
                by_identity[(row.namespace, row.value)] = bound
    return BindingTable(by_identity, devices, time.monotonic())


class Bindings:
    """The cached bindings, invalidated by registry events."""

    def __init__(
        self,
        loader: Callable[[], BindingTable],
        events: EventBus | None = None,
        *,
        unknown_refresh_s: float = 30.0,
    ) -> None:
        """Use ``loader`` to (re)read the table; listen to ``events`` for changes of the graph."""
        self.loader = loader
        self.table = BindingTable()
        self.stale = True
        self.unknown_refresh_s = unknown_refresh_s
        self.reloads = 0
        self._unsubscribe = events.subscribe(self._on_event) if events is not None else None

    def _on_event(self, item: RegistryEvent) -> None:
        # Called on the thread that committed the change: setting a flag is all it does.
        if item.kind != HEALTH_EVENT:
            self.stale = True

    def lookup(self, identity: Identity) -> Bound | None:
        """Return the device an identity names, or None; an unknown one may ask for a reload."""
        bound = self.table.by_identity.get(identity)
        if bound is None and time.monotonic() - self.table.loaded_at > self.unknown_refresh_s:
            self.stale = True
        return bound

    def reload(self) -> BindingTable:
        """Read the table again (blocking: call it off the event loop) and return the new one."""
        self.stale = False
        try:
            table = self.loader()
        except Exception:
            self.stale = True
            raise
        self.table = table
        self.reloads += 1
        return table

    def close(self) -> None:
        """Stop listening to registry events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
