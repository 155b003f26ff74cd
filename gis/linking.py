"""Link GIS footprints to the BIM buildings they outline: by declared id, by name, else by overlap.

A declared id (the footprint carries the building's id in an attribute) is the surveyor's word and
wins; a unique name comes next; overlap (intersection over union) decides the rest. Every link
reports the IoU, whatever made it, so a footprint linked by id but far from its building shows a
georeferencing problem instead of hiding it. Assignment is one-to-one, best score first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import shapely
from shapely.geometry.base import BaseGeometry

from gis.kinds import FeatureKind
from gis.model import GisFeature

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BimBuilding:
    """A building of the BIM side as linking needs it: its id, name and outline in EPSG:4326."""

    id: str
    name: str | None
    outline: BaseGeometry


class LinkMethod(StrEnum):
    """What made a link, strongest first."""

    ID = "id"
    NAME = "name"
    OVERLAP = "overlap"


@dataclass(frozen=True, slots=True)
class FootprintLink:
    """One footprint linked to one building, with how and how well they overlap (IoU, 0–1)."""

    feature_index: int
    source_id: str
    building_id: str
    method: LinkMethod
    score: float


@dataclass(frozen=True, slots=True)
class LinkReport:
    """The links made, and what stayed alone on each side (footprints become buildings of their own)."""

    links: tuple[FootprintLink, ...]
    unmatched_footprints: tuple[int, ...]
    """Feature indices of footprints linked to no BIM building."""
    unmatched_buildings: tuple[str, ...]


def iou(a: BaseGeometry, b: BaseGeometry) -> float:
    """Return the intersection over union of two areas (0 when disjoint or degenerate)."""
    union = float(shapely.area(shapely.union(a, b)))
    return float(shapely.area(shapely.intersection(a, b))) / union if union > 0 else 0.0


def link_footprints(
    footprints: Iterable[GisFeature],
    buildings: Sequence[BimBuilding],
    *,
    id_attribute: str = "bim_id",
    name_attributes: tuple[str, ...] = ("name", "名称"),
    min_iou: float = 0.3,
) -> LinkReport:
    """Link footprint features to BIM buildings (IoU is computed in degrees: a ratio, unchanged by scale)."""
    candidates = [f for f in footprints if f.kind is FeatureKind.FOOTPRINT]
    by_id = {b.id: b for b in buildings}
    links: list[FootprintLink] = []
    taken_features: set[int] = set()
    taken_buildings: set[str] = set()

    def take(feature: GisFeature, building: BimBuilding, method: LinkMethod, score: float) -> None:
        links.append(FootprintLink(feature.index, feature.source_id, building.id, method, round(score, 4)))
        taken_features.add(feature.index)
        taken_buildings.add(building.id)

    for feature in candidates:
        declared = feature.attributes.get(id_attribute)
        building = by_id.get(str(declared)) if declared not in (None, "") else None
        if building is not None and building.id not in taken_buildings:
            take(feature, building, LinkMethod.ID, iou(feature.geometry, building.outline))

    by_name = _unique_names((b.name, b) for b in buildings if b.id not in taken_buildings)
    feature_names = _unique_names(
        (_name(f, name_attributes), f) for f in candidates if f.index not in taken_features
    )
    for name, feature in feature_names.items():
        building = by_name.get(name)
        if building is not None:
            take(feature, building, LinkMethod.NAME, iou(feature.geometry, building.outline))

    for score, feature, building in _overlaps(
        candidates, buildings, taken_features, taken_buildings, min_iou
    ):
        if feature.index not in taken_features and building.id not in taken_buildings:
            take(feature, building, LinkMethod.OVERLAP, score)

    return LinkReport(
        links=tuple(sorted(links, key=lambda link: link.feature_index)),
        unmatched_footprints=tuple(f.index for f in candidates if f.index not in taken_features),
        unmatched_buildings=tuple(b.id for b in buildings if b.id not in taken_buildings),
    )


def _name(feature: GisFeature, columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = feature.attributes.get(column)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _unique_names(pairs: Iterable[tuple[str | None, T]]) -> dict[str, T]:
    """Return name → item for names borne by exactly one item ("1号楼" in two communities links neither)."""
    items = [(name.strip().casefold(), item) for name, item in pairs if name and name.strip()]
    counts = Counter(name for name, _ in items)
    return {name: item for name, item in items if counts[name] == 1}


def _overlaps(
    features: Sequence[GisFeature],
    buildings: Sequence[BimBuilding],
    taken_features: set[int],
    taken_buildings: set[str],
    min_iou: float,
) -> list[tuple[float, GisFeature, BimBuilding]]:
    free = [b for b in buildings if b.id not in taken_buildings]
    if not free:
        return []
    tree = shapely.STRtree([b.outline for b in free])
    pairs: list[tuple[float, GisFeature, BimBuilding]] = []
    for feature in features:
        if feature.index in taken_features:
            continue
        for position in tree.query(feature.geometry, predicate="intersects"):
            building = free[int(position)]
            score = iou(feature.geometry, building.outline)
            if score >= min_iou:
                pairs.append((score, feature, building))
    pairs.sort(key=lambda p: (-p[0], p[1].index, p[2].id))
    return pairs
