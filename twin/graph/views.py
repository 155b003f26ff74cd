"""Rows to public schemas, in bulk: one query for all the names and identifiers a page shows.

Lists are built as plain data, sent as they are (orjson) and never validated again: a page of
places or devices is a hot read, and validating models the server itself just made costs more
than the query. Single objects still travel as models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from twin.graph.geometry import point_xyz, to_geojson
from twin.graph.paths import PathNames
from twin.schemas import (
    BuildingPublic,
    DevicePublic,
    FloorPublic,
    PlacePublic,
    SitePublic,
    SpacePublic,
)
from twin.store.ltree import ids_of
from twin.store.models import BuildingRow, DeviceRow, FloorRow, IdentifierRow, PlaceRow, SiteRow, SpaceRow

Identifiers = dict[tuple[str, int], list[dict[str, str]]]
"""The identifiers of a page's objects as plain data, keyed by ("place"|"device", id)."""


def _among(name: str, ids: set[int]) -> ColumnElement[Any]:
    """Spell ``= ANY(:ids)`` with one array parameter, not an IN of one parameter per id.

    A page's id list changes length from page to page: as IN (…) each length is a new SQL text
    for SQLAlchemy to render and psycopg to parse, and never one it prepares. With one array the
    text is always the same (a page of 100 devices rendered in 3.8 ms before, the most of it there).
    """
    return any_(bindparam(name, sorted(ids), type_=ARRAY(BigInteger)))


def page_context(
    session: Session, paths: Iterable[str], *, place_ids: Iterable[int] = (), device_ids: Iterable[int] = ()
) -> tuple[PathNames, Identifiers]:
    """Load the names on many paths and the identifiers of many objects in one round trip."""
    ids = {pid for path in paths for pid in ids_of(path)}
    place_ids, device_ids = set(place_ids), set(device_ids)
    parts: list[Any] = []
    if ids:
        parts.append(
            select(
                literal("name").label("source"), PlaceRow.id.label("id"), PlaceRow.name.label("a"), null().label("b")
            ).where(PlaceRow.id == _among("names", ids))
        )
    for kind, column, wanted in (
        ("place", IdentifierRow.place_id, place_ids),
        ("device", IdentifierRow.device_id, device_ids),
    ):
        if wanted:
            parts.append(
                select(literal(kind), column, IdentifierRow.namespace, IdentifierRow.value).where(
                    column == _among(kind, wanted)
                )
            )
    names: dict[int, str] = {}
    idents: Identifiers = {}
    if not parts:
        return PathNames(names), idents
    statement: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    rows: Any = session.execute(statement)
    for row in rows:
        if row.source == "name":
            names[row.id] = row.a
        else:
            idents.setdefault((row.source, row.id), []).append({"namespace": row.a, "value": row.b})
    return PathNames(names), idents


def place_items(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Render places as plain data with what every level has (``PlacePublic``), for lists.

    Takes ORM rows or the plain rows of ``queries.PLACE_LISTING``.
    """
    names, idents = page_context(session, [row.path for row in rows], place_ids=[row.id for row in rows])
    return [_base(row, names.steps(row.path), idents.get(("place", row.id), [])) for row in rows]


def _base(row: Any, path: list[Any], idents: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "code": row.code,
        "parent_id": row.parent_id,
        "path": path,
        "properties": row.properties or {},
        "identifiers": idents,
    }


def places_public(session: Session, rows: Sequence[PlaceRow]) -> list[PlacePublic]:
    """Render places of any level with their paths, identifiers and what their level adds."""
    names, idents = page_context(session, [row.path for row in rows], place_ids=[row.id for row in rows])
    return [_place(row, names, idents.get(("place", row.id), [])) for row in rows]


def _place(row: PlaceRow, names: PathNames, idents: list[dict[str, str]]) -> PlacePublic:
    base = _base(row, names.items(row.path), idents)
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
    names, idents = page_context(session, [row.path for row in rows], device_ids=[row.id for row in rows])
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
                "path": names.steps(row.path),
                "health": row.health,
                "last_seen": row.last_seen,
                "properties": row.properties or {},
                "identifiers": idents.get(("device", row.id), []),
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
