"""Rows to public schemas, in bulk: one query for all the names on all the paths of a page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from twin.catalogue import DeviceHealth
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


def devices_public(
    session: Session, rows: Sequence[DeviceRow], distances: Sequence[float | None] | None = None
) -> list[DevicePublic]:
    """Render devices with their paths and identifiers."""
    namer = PathNamer(session, [row.path for row in rows])
    idents = identifiers_of(session, device_ids=[row.id for row in rows])
    out = []
    for index, row in enumerate(rows):
        distance = distances[index] if distances is not None else None
        out.append(
            DevicePublic(
                id=row.id,
                kind=row.kind,
                name=row.name,
                tag=row.tag,
                place_id=row.place_id,
                floor_id=row.floor_id,
                space_id=row.space_id,
                position=point_xyz(row.position_local),
                path=namer.items(row.path),
                health=DeviceHealth(row.health),
                last_seen=row.last_seen,
                properties=row.properties or {},
                identifiers=idents.get(("device", row.id), []),
                distance=round(distance, 3) if distance is not None else None,
            )
        )
    return out
