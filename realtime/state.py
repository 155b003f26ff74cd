"""The latest value of every quantity of every device, in memory first and in ``device_state`` after.

The live view and the rules read the latest state at every reading, so it lives in memory and is
updated on the event loop before anything is stored; the table follows in batches (one upsert
for everything that changed since the last flush, however many readings that was), and it keeps
updating while the database is away: what changed meanwhile is flushed when it returns.
A reading older than the value already held (a gateway replaying its backlog) goes to history but
never replaces a newer latest value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Latest:
    """A device's latest value of one quantity."""

    value: float | bool | str
    unit: str
    time: datetime


StateKey = tuple[int, str]
"""(device id, quantity)."""

StateListener = Callable[[list[tuple[StateKey, Latest]]], None]
"""Called with the values that changed in one ingested batch (the live hub subscribes here)."""


class LatestState:
    """Latest values by device and quantity, with the keys not yet flushed to the database."""

    def __init__(self) -> None:
        """Start empty: the table holds what earlier runs saw."""
        self._values: dict[StateKey, Latest] = {}
        self._by_device: dict[int, set[str]] = {}
        self._dirty: set[StateKey] = set()
        self._listeners: list[StateListener] = []

    def update(self, device_id: int, quantity: str, value: float | bool | str, unit: str, time: datetime) -> bool:
        """Keep the value if it is not older than the one held; return whether it was kept."""
        key = (device_id, quantity)
        held = self._values.get(key)
        if held is not None and held.time > time:
            return False
        if held is None:
            self._by_device.setdefault(device_id, set()).add(quantity)
        self._values[key] = Latest(value, unit, time)
        self._dirty.add(key)
        return True

    def get(self, device_id: int, quantity: str) -> Latest | None:
        """Return the latest value of one quantity of a device, if seen by this process."""
        return self._values.get((device_id, quantity))

    def of(self, device_id: int) -> dict[str, Latest]:
        """Return every latest value of a device seen by this process."""
        return {q: self._values[(device_id, q)] for q in sorted(self._by_device.get(device_id, ()))}

    def take_dirty(self) -> list[tuple[StateKey, Latest]]:
        """Hand over what changed since the last flush."""
        dirty = [(key, self._values[key]) for key in self._dirty if key in self._values]
        self._dirty.clear()
        return dirty

    def restore_dirty(self, keys: list[StateKey]) -> None:
        """Mark keys as unflushed again after a failed flush."""
        self._dirty.update(keys)

    def forget(self, device_id: int) -> None:
        """Drop a device that is no longer bound."""
        for quantity in self._by_device.pop(device_id, ()):
            key = (device_id, quantity)
            self._values.pop(key, None)
            self._dirty.discard(key)

    @property
    def pending(self) -> int:
        """Return how many values wait for the next flush."""
        return len(self._dirty)

    def subscribe(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every batch of changes; return the callable that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def announce(self, changes: list[tuple[StateKey, Latest]]) -> None:
        """Hand one batch of changes to every listener; a failing listener never stops ingestion."""
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:
                log.exception("state listener failed")
