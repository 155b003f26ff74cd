"""Identities that send data but name no device: the discovered list the operator binds from.

A reading from an unknown identity is not an error: it is a device someone installed and nobody
bound yet. It is remembered with what it sent and, when its id spells a unit address
(``3-2-1801``, ``b3_f18_u01``), with that address as a hint; the API resolves the hint to a
place in the caller's scope. Pending sightings are flushed to ``discovered_identities`` with the
latest state, so every server instance shows the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from realtime.decode import Identity, Reading
from realtime.identity import parse_unit_address

MAX_PENDING = 10_000
"""Distinct identities remembered between two flushes; a runaway wildcard cannot exhaust memory."""


def address_hint(value: str) -> dict[str, Any] | None:
    """Return the unit address an identity's id spells, as stored in ``discovered_identities.hint``."""
    parsed = parse_unit_address(value)
    if parsed is None:
        return None
    hint: dict[str, Any] = {
        "building": parsed.building,
        "entrance": parsed.entrance,
        "floor": parsed.floor,
        "room": parsed.room,
        "label": parsed.label_zh,
    }
    if parsed.room is not None:
        parts = [parsed.building, parsed.entrance, parsed.room] if parsed.entrance else [parsed.building, parsed.room]
        hint["address"] = "-".join(parts)
    return hint


@dataclass(slots=True)
class Sighting:
    """What an unbound identity did since the last flush."""

    namespace: str
    value: str
    profile: str
    topic: str
    first_seen: datetime
    last_seen: datetime
    messages: int = 0
    latest: dict[str, Any] = field(default_factory=dict)
    hint: dict[str, Any] | None = None


class Unbound:
    """Sightings of unbound identities, waiting to be flushed."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        """Remember at most ``max_pending`` identities between flushes."""
        self.max_pending = max_pending
        self._pending: dict[Identity, Sighting] = {}
        self._hints: dict[Identity, dict[str, Any] | None] = {}
        self.overflow = 0
        """Sightings not remembered because too many identities were pending."""

    def saw(self, identity: Identity, profile: str, topic: str, at: datetime, readings: list[Reading]) -> None:
        """Record one message of ``identity`` and the readings it carried."""
        sighting = self._pending.get(identity)
        if sighting is None:
            if len(self._pending) >= self.max_pending:
                self.overflow += 1
                return
            if identity not in self._hints:
                if len(self._hints) >= self.max_pending:
                    self._hints.clear()
                self._hints[identity] = address_hint(identity[1])
            sighting = Sighting(identity[0], identity[1], profile, topic, at, at, hint=self._hints[identity])
            self._pending[identity] = sighting
        sighting.messages += 1
        sighting.topic = topic
        sighting.last_seen = max(sighting.last_seen, at)
        for reading in readings:
            sighting.latest[reading.quantity] = {
                "value": reading.value,
                "unit": reading.unit,
                "time": reading.time.isoformat(),
            }

    def forget(self, identity: Identity) -> None:
        """Drop an identity that is bound now."""
        self._pending.pop(identity, None)

    def take(self) -> list[Sighting]:
        """Hand over the pending sightings for a flush."""
        taken = list(self._pending.values())
        self._pending.clear()
        return taken

    def restore(self, sightings: list[Sighting]) -> None:
        """Put back sightings whose flush failed, merged with what came since."""
        for old in sightings:
            key = (old.namespace, old.value)
            new = self._pending.get(key)
            if new is None:
                self._pending[key] = old
                continue
            new.first_seen = min(new.first_seen, old.first_seen)
            new.messages += old.messages
            new.latest = {**old.latest, **new.latest}

    def __len__(self) -> int:
        """Return how many identities are pending."""
        return len(self._pending)
