"""Rows to public schemas, in bulk: one query for all the names on all the paths of a page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from twin.graph.geometry import point_xyz, to_geojson
from twin.graph.identifiers import identifiers_of
from twin.graph.paths import PathNamer
from twin.schemas import (
    BuildingPublic,
    DevicePublic,
    FloorPublic,
    PlacePublic,
    SitePublic,
    SpacePublic,
)
from twin.store.models import BuildingRow, DeviceRow, FloorRow, PlaceRow, SiteRow, SpaceRow


def places_public(session: Session, rows: Sequence[PlaceRow]) -> list[PlacePublic]:
    """Render places of any level with their paths and identifiers."""
    namer = PathNamer(session, [row.path for row in rows])
    idents = identifiers_of(session, place_ids=[row.id for row in rows])
    return [_place(row, namer, idents.get(("place", row.id), [])) for row in rows]


def _place(row: PlaceRow, namer: PathNamer, idents: list) -> PlacePublic:  # type: ignore[type-arg]
    base = {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "code": row.code,
        "parent_id": row.parent_id,
        "path": namer.items(row.path),
        "properties": row.properties or {},
        "identifiers": idents,
    }
    if isinstance(row, SiteRow):
        return SitePublic(
            **base,
            origin={"lat": row.origin_lat, "lon": row.origin_lon, "height": row.origin_height},
            boundary=to_geojson(row.boundary, 7),
        )
    if isinstance(row, BuildingRow):
        return BuildingPublic(
            **base,
            footprint=to_geojson(row.footprint, 7),
            footprint_local=to_geojson(row.footprint_local),
            height=row.height,
            address=row.address,
            floors_above=row.floors_above,
            floors_below=row.floors_below,
        )
    if isinstance(row, FloorRow):
        return FloorPublic(
            **base,
            building_id=row.building_id,
            level=row.level,
            elevation=row.elevation,
            height=row.height,
            outline_local=to_geojson(row.outline_local),
        )
    if isinstance(row, SpaceRow):
        return SpacePublic(
            **base,
            floor_id=row.floor_id,
            space_kind=row.space_kind,
            polygon_local=to_geojson(row.polygon_local),
            area=row.area,
            address=row.address,
        )
    return PlacePublic(**base)


def device_items(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Render devices as plain data with their paths and identifiers: two queries for the whole page.

    Takes ORM rows or the plain rows of a device list (``x``, ``y``, ``z``, ``distance`` columns).
    """
    namer = PathNamer(session, [row.path for row in rows])
    idents = identifiers_of(session, device_ids=[row.id for row in rows])
    out = []
    for row in rows:
        distance = getattr(row, "distance", None)
        out.append(
            {
                "id": row.id,
                "kind": row.kind,
                "name": row.name,
                "tag": row.tag,
                "place_id": row.place_id,
                "floor_id": row.floor_id,
                "space_id": row.space_id,
                "position": _position(row),
                "path": namer.steps(row.path),
                "health": row.health,
                "last_seen": row.last_seen,
                "properties": row.properties or {},
                "identifiers": [i.model_dump() for i in idents.get(("device", row.id), [])],
                "distance": round(distance, 3) if distance is not None else None,
            }
        )
    return out


def _position(row: Any) -> tuple[float, float, float] | None:
    if isinstance(row, DeviceRow):
        return point_xyz(row.position_local)
    if row.x is None:
        return None
    return (round(row.x, 3), round(row.y, 3), round(row.z or 0.0, 3))


def devices_public(session: Session, rows: Sequence[DeviceRow]) -> list[DevicePublic]:
    """Render devices as API models (single objects and small lists)."""
    return [DevicePublic.model_validate(item) for item in device_items(session, rows)]
