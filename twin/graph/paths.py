"""Location paths: the ltree of ids a place or device hangs on, and the scopes it spells.

The depth of an id in the path says its level (site, building, floor, space), so a path alone
names every scope an event belongs to: the hub walks these few steps to find subscribers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.schemas import PathItem
from twin.store.ltree import ids_of
from twin.store.models import DeviceRow, PlaceRow

LEVELS = ("site", "building", "floor", "space")


def scopes(path: str, device_id: int | None = None) -> tuple[str, ...]:
    """Spell the scopes of a path, site first (``site:1``, ``building:5``, …, ``device:9``)."""
    out = [f"{LEVELS[depth]}:{pid}" for depth, pid in enumerate(ids_of(path))]
    if device_id is not None:
        out.append(f"device:{device_id}")
    return tuple(out)


def device_kind(session: Session, device_id: int | None) -> str | None:
    """Return the kind of the device an event is about, for the hub's filter of a vendor's kinds.

    From the session when the change loaded the device already; the hub's own table knows only the
    devices the ingest has bound, so the event must carry it.
    """
    device = session.get(DeviceRow, device_id) if device_id is not None else None
    return device.kind if device is not None else None


def level_of(path: str) -> str:
    """Return the level of the place a path ends at."""
    return LEVELS[len(ids_of(path)) - 1]


class PathNames:
    """Names the steps of paths from a map of place ids to names loaded beforehand."""

    def __init__(self, names: dict[int, str]) -> None:
        self._names = names

    def steps(self, path: str) -> list[dict[str, object]]:
        """Return the named steps of a path as plain data, for responses built without models."""
        return [
            {"kind": LEVELS[depth], "id": pid, "name": self._names.get(pid, "?")}
            for depth, pid in enumerate(ids_of(path))
        ]

    def items(self, path: str) -> list[PathItem]:
        """Return the named steps of a path."""
        return [
            PathItem(kind=LEVELS[depth], id=pid, name=self._names.get(pid, "?"))
            for depth, pid in enumerate(ids_of(path))
        ]


class PathNamer(PathNames):
    """Turns many paths into named path items with one query for all of them (no N+1)."""

    def __init__(self, session: Session, paths: Iterable[str]) -> None:
        ids = {pid for path in paths for pid in ids_of(path)}
        rows = session.execute(select(PlaceRow.id, PlaceRow.name).where(PlaceRow.id.in_(ids))).all() if ids else []
        super().__init__({row.id: row.name for row in rows})
