"""Which device's failure explains another's silence: storm control by topology.

A device behind a gateway (relation ``via``) goes silent when the gateway does; every device in a
place fed by a power or network device (relation ``feeds`` from a transformer, a floor's meter or
a switch) goes silent when that one fails. Their offline alarms are grouped under the root's, so
the operator sees one line for the gateway, not fifty for what is behind it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from realtime.bindings import Bound

ROOT_KINDS = ("gateway", "transformer", "electricity_meter")
"""Kinds whose failure silences what they feed (power and network), unlike a pump's."""

_FEEDERS = text(
    "SELECT r.source_device_id, p.path::text FROM relations r JOIN devices d ON d.id = r.source_device_id "
    "JOIN places p ON p.id = r.target_place_id WHERE r.kind = 'feeds' AND d.kind = ANY(:kinds) "
    "AND d.retired_at IS NULL"
)


class Topology:
    """The power and network feeders of places, read from the relations."""

    def __init__(self) -> None:
        """Start knowing no feeder; ``load`` reads them."""
        self._feeders: list[tuple[int, str]] = []

    def load(self, session: Session) -> None:
        """Read the feeders of places (a few rows per floor at most)."""
        rows = session.execute(_FEEDERS, {"kinds": list(ROOT_KINDS)})
        self._feeders = [(int(device), str(path)) for device, path in rows]

    def roots(self, device: Bound) -> list[int]:
        """Return the devices whose failure would silence ``device``: its gateway, then its feeders."""
        out = [device.via] if device.via is not None else []
        for feeder, path in self._feeders:
            if feeder != device.device_id and (device.path == path or device.path.startswith(path + ".")):
                out.append(feeder)
        return out
