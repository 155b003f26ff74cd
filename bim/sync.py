"""The state of one model's synchronisation with the graph: what exists, what was written, what changed.

A model is matched to the graph by GlobalId (the ``("ifc", GlobalId)`` identifiers). Rows a
model created carry ``properties["ifc"]["model"]``, the model's key: a re-import of that key
retires its rows whose elements are gone; rows of other models (federated disciplines sharing
a building and its storeys) are matched and updated, never retired by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from bim.model import BimModel
from bim.placement import ModelPlacement
from twin.graph.identifiers import bind_identifiers
from twin.imports import ImportInputError
from twin.schemas import Identifier
from twin.store.models import BuildingRow, DeviceRow, FloorRow, IdentifierRow, PlaceRow, SiteRow, SpaceRow

LISTED = 50
"""GlobalIds listed per kind of change in a summary; the counts are always complete."""
_CHUNK = 5000


@dataclass
class Changes:
    """What a synchronisation changed, by GlobalId."""

    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> dict[str, Any]:
        """Return the counts of each change and the first GlobalIds of each."""
        kinds = {"added": self.added, "moved": self.moved, "changed": self.changed, "retired": self.retired}
        out: dict[str, Any] = {name: len(items) for name, items in kinds.items()}
        out["unchanged"] = self.unchanged
        out["global_ids"] = {name: sorted(items)[:LISTED] for name, items in kinds.items() if items}
        return out


def ifc_identity(global_id: str) -> list[Identifier]:
    """Return the identifiers of an element: its GlobalId in the ``ifc`` namespace."""
    return [Identifier(namespace="ifc", value=global_id)]


class SyncState:
    """Everything the place and device writers share while one model is written into one site."""

    def __init__(
        self, session: Session, site: SiteRow, model: BimModel, key: str, default: ModelPlacement, *, new_site: bool
    ) -> None:
        self.session, self.site, self.model, self.key, self.default = session, site, model, key, default
        # A site or building this import created holds only what the import writes into it: what
        # it already has need not be asked of the database (its floors, walks, rows to retire).
        self.new_site = new_site
        self.new_buildings: set[int] = set()
        self.warnings: list[str] = []
        self.changes = Changes()
        self.places: dict[str, PlaceRow] = {}
        self.devices: dict[str, DeviceRow] = {}
        self.polygons: dict[str, BaseGeometry] = {}
        self.placements: dict[str, ModelPlacement] = {}
        self.storey_building: dict[str, str] = {}
        self.existing = self._existing()

    def marker(self, global_id: str, ifc_class: str, **extra: Any) -> dict[str, Any]:
        """Return the ``ifc`` properties of a row this model writes."""
        return {"model": self.key, "global_id": global_id, "class": ifc_class, **extra}

    def owns(self, row: PlaceRow | DeviceRow) -> bool:
        """Tell whether a row was created by this model (and may be retired by its re-import)."""
        marker = (row.properties or {}).get("ifc") or {}
        return bool(marker.get("model") == self.key)

    def placement_of_storey(self, storey_id: str | None) -> ModelPlacement:
        """Return the placement of the building a storey belongs to."""
        building = self.storey_building.get(storey_id or "")
        return self.placements.get(building or "", self.default)

    def bind(self, row: PlaceRow | DeviceRow, global_id: str) -> None:
        """Name an existing row by one more GlobalId (a federated model's storey, a merged building)."""
        if isinstance(row, DeviceRow):
            bind_identifiers(self.session, ifc_identity(global_id), device_id=row.id)
        else:
            bind_identifiers(self.session, ifc_identity(global_id), place_id=row.id)

    def written_ids(self) -> tuple[set[int], set[int]]:
        """Return the ids of the places and devices this model wrote or matched."""
        return {r.id for r in self.places.values()}, {r.id for r in self.devices.values()}

    def _existing(self) -> dict[str, PlaceRow | DeviceRow]:
        """Load the rows the model's GlobalIds already name; one in another site stops the import."""
        model = self.model
        ids = [b.global_id for b in model.buildings] + [model.project_id]
        ids += [s.global_id for s in model.storeys] + [s.global_id for s in model.spaces]
        ids += [d.global_id for d in model.devices]
        found: dict[str, PlaceRow | DeviceRow] = {}
        place_of: dict[int, str] = {}
        device_of: dict[int, str] = {}
        for chunk in _chunks(ids):
            rows = self.session.scalars(
                select(IdentifierRow).where(IdentifierRow.namespace == "ifc", IdentifierRow.value.in_(chunk))
            )
            for ident in rows:
                if ident.place_id is not None:
                    place_of[ident.place_id] = ident.value
                elif ident.device_id is not None:
                    device_of[ident.device_id] = ident.value
        for table in (BuildingRow, FloorRow, SpaceRow):
            for chunk_ids in _chunks(list(place_of)):
                for place in self.session.scalars(select(table).where(table.id.in_(chunk_ids))):
                    found[place_of[place.id]] = place
        for chunk_ids in _chunks(list(device_of)):
            for device in self.session.scalars(select(DeviceRow).where(DeviceRow.id.in_(chunk_ids))):
                found[device_of[device.id]] = device
        for global_id, row in found.items():
            if row.site_id != self.site.id:
                what = row.kind if isinstance(row, PlaceRow) else "device"
                raise ImportInputError(
                    f"{model.path.name}: GlobalId {global_id} already names {what} {row.id} of site {row.site_id}",
                    f"a model is imported into one site: re-import it into site {row.site_id}",
                )
        return found


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def clipped(text: str, limit: int, fallback: str) -> str:
    """Return a name that fits its column: trimmed, shortened, never empty."""
    text = " ".join(text.split())
    return (text or fallback)[:limit]


def points_of(items: Iterable[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """Return the (x, y) of 3D points."""
    return [(p[0], p[1]) for p in items]
