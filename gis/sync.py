"""The state of one GIS layer's synchronisation with a site: its graph nodes by feature, and changes.

A feature that became a building or a device is named by ``("gis", "{site}:{layer}:{source id}")``,
so re-importing the layer finds it again, moves it, changes it, or retires it when the feature is
gone — the same rules as a BIM re-import, keyed by the source's own feature id.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.frame import LocalFrame
from gis.kinds import KindMapping
from gis.model import GisFeature, GisLayer
from twin.schemas import Identifier
from twin.store.models import BuildingRow, DeviceRow, IdentifierRow, PlaceRow, SiteRow

NAMESPACE = "gis"
LISTED = 50


@dataclass
class LayerChanges:
    """What a layer's import changed in the graph, by feature source id."""

    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> dict[str, Any]:
        """Return the counts of each change and the first source ids of each."""
        kinds = {"added": self.added, "moved": self.moved, "changed": self.changed, "retired": self.retired}
        out: dict[str, Any] = {name: len(items) for name, items in kinds.items()}
        out["unchanged"] = self.unchanged
        out["source_ids"] = {name: sorted(items)[:LISTED] for name, items in kinds.items() if items}
        return out


class LayerSync:
    """Everything the building, device and feature writers share while one layer goes into one site."""

    def __init__(
        self, session: Session, site: SiteRow, layer: GisLayer, name: str, mapping: KindMapping, job_id: int
    ) -> None:
        self.session, self.site, self.layer, self.name, self.mapping = session, site, layer, name, mapping
        self.job_id = job_id
        self.frame = LocalFrame(site.origin_lat, site.origin_lon, site.origin_height)
        self.changes = LayerChanges()
        self.warnings: list[str] = []
        self.places: dict[str, int] = {}
        self.devices: dict[str, int] = {}
        self.links: list[dict[str, Any]] = []
        self._sids = self._unique_source_ids()
        self.existing = self._existing()

    def sid(self, feature: GisFeature) -> str:
        """Return a feature's source id, made unique within the layer (``id#index`` for a repeated one)."""
        return self._sids[feature.index]

    def _unique_source_ids(self) -> dict[int, str]:
        counts = Counter(f.source_id for f in self.layer.features)
        repeated = sorted(s for s, n in counts.items() if n > 1)
        if repeated:
            self.warnings.append(
                f"{self.layer.source}: {len(repeated)} source id(s) name several features "
                f"({', '.join(repeated[:5])}); those are told apart by their index"
            )
        return {
            f.index: f.source_id if counts[f.source_id] == 1 else f"{f.source_id}#{f.index}"
            for f in self.layer.features
        }

    def key(self, source_id: str) -> str:
        """Return the identifier value of a feature of this layer in this site (at most 200 characters)."""
        value = f"{self.site.id}:{self.name}:{source_id}"
        if len(value) <= 200:
            return value
        return f"{self.site.id}:{self.name[:80]}:sha1:{hashlib.sha1(source_id.encode()).hexdigest()}"

    def identity(self, source_id: str) -> list[Identifier]:
        """Return the identifiers of the node a feature becomes."""
        return [Identifier(namespace=NAMESPACE, value=self.key(source_id))]

    def marker(self, source_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """Return the ``gis`` properties of a node a feature made (not its index: a file's order may change)."""
        return {
            "model": self.name,
            "layer": self.name,
            "source": self.layer.source,
            "source_id": source_id,
            "attributes": attributes,
        }

    def _existing(self) -> dict[str, PlaceRow | DeviceRow]:
        """Load the buildings and devices this layer made or linked before, by identifier value."""
        prefix = f"{self.site.id}:{self.name}:"
        rows = list(
            self.session.scalars(
                select(IdentifierRow).where(
                    IdentifierRow.namespace == NAMESPACE, IdentifierRow.value.startswith(prefix, autoescape=True)
                )
            )
        )
        found: dict[str, PlaceRow | DeviceRow] = {}
        place_ids = {r.place_id: r.value for r in rows if r.place_id is not None}
        device_ids = {r.device_id: r.value for r in rows if r.device_id is not None}
        if place_ids:
            for building in self.session.scalars(select(BuildingRow).where(BuildingRow.id.in_(place_ids))):
                found[place_ids[building.id]] = building
        if device_ids:
            for device in self.session.scalars(select(DeviceRow).where(DeviceRow.id.in_(device_ids))):
                found[device_ids[device.id]] = device
        return found
