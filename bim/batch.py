"""A model's new spaces and devices written in batches: the use cases' rules in a few round trips.

``create_space`` and ``create_device`` each take six to eight database round trips (an id, the
row, the identifier looked up and written, the audit lock, the audit chain's head, the audit
row), one after another: for a model's hundreds of spaces and devices that was half of the
graph writes. Here the same rows, ``ifc`` identifiers, audit entries and registry events are
made for all of a model's new spaces, then all of its new devices, in a handful of statements;
its new walking edges, one flush each before, are inserted together too.
The rules stay those of :mod:`twin.graph.places` and :mod:`twin.graph.devices`: the caller's
permission on each container, valid polygons and unit addresses, a device on a floor put in the
smallest space its position is in, a device outside its space or floor refused. Rows that
already exist are updated one by one by the use cases, as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import Change, audit_all, snapshot
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed
from twin.errors import ValidationError
from twin.events import RegistryEvent, record
from twin.graph.devices import TOLERANCE_M
from twin.graph.geometry import LOCAL_SRID, from_db, to_db
from twin.graph.paths import scopes
from twin.graph.places import get_place, space_row
from twin.graph.walking import EDGE_KINDS
from twin.schemas import DeviceCreate, Identifier, SpaceCreate
from twin.store.base import draw_ids
from twin.store.models import DeviceRow, FloorRow, IdentifierRow, PlaceRow, SpaceRow, WalkEdgeRow


def create_spaces(session: Session, items: Sequence[SpaceCreate]) -> list[SpaceRow]:
    """Add spaces to their floors, as ``create_space`` adds one, and return them in order."""
    if not items:
        return []
    ids = draw_ids(session, PlaceRow.__tablename__, len(items))
    rows = [space_row(session, data, new_id) for new_id, data in zip(ids, items, strict=True)]
    session.add_all(rows)
    session.flush()
    _identify(session, [(row, data.identifiers) for row, data in zip(rows, items, strict=True)])
    for row in rows:
        record(session, RegistryEvent("create", row.kind, row.id, scopes(row.path), {"name": row.name}))
    _audit(session, [(f"{row.kind}.create", row.kind, row) for row in rows])
    return rows


def create_devices(session: Session, items: Sequence[DeviceCreate]) -> list[DeviceRow]:
    """Place new devices, as ``create_device`` places one, and return them in order."""
    if not items:
        return []
    places = [get_place(session, PlaceRow, data.place_id, "place") for data in items]
    floors = {p.id for p, d in zip(places, items, strict=True) if isinstance(p, FloorRow) and d.position is not None}
    spaces = _spaces_of(session, floors)
    shapes: dict[int, BaseGeometry | None] = {}
    rows = []
    for place, data in zip(places, items, strict=True):
        check_allowed(session, Permission.GRAPH_WRITE, place.path, f"place {place.id}")
        flat = Point(data.position[0], data.position[1]) if data.position is not None else None
        if isinstance(place, FloorRow) and flat is not None and place.id in spaces:
            inside = _smallest_under(spaces[place.id], flat)
            if inside is not None:
                place = get_place(session, PlaceRow, inside, "space")
        floor_id = place.floor_id if isinstance(place, SpaceRow) else place.id if isinstance(place, FloorRow) else None
        if flat is not None:
            _check_inside(session, place, floor_id, flat, shapes)
        rows.append(
            DeviceRow(
                kind=data.kind.value,
                name=data.name,
                tag=data.tag,
                properties=data.properties,
                health="unknown",
                place_id=place.id,
                floor_id=floor_id,
                space_id=place.id if isinstance(place, SpaceRow) else None,
                site_id=place.site_id or place.id,
                path=place.path,
                position_local=to_db(Point(*data.position), LOCAL_SRID) if data.position is not None else None,
            )
        )
    session.add_all(rows)
    session.flush()
    _identify(session, [(row, data.identifiers) for row, data in zip(rows, items, strict=True)])
    for row in rows:
        summary = {"name": row.name, "kind": row.kind}
        record(session, RegistryEvent("create", "device", row.id, scopes(row.path, row.id), summary))
    _audit(session, [("device.create", "device", row) for row in rows])
    return rows


def add_walk_edges(session: Session, edges: Sequence[tuple[SpaceRow, SpaceRow, str, float, str | None]]) -> None:
    """Join pairs of spaces, as ``add_walk_edge`` joins one pair: kind, ends and length checked."""
    rows = []
    for a, b, kind, length, via in edges:
        if kind not in EDGE_KINDS:
            raise ValidationError("kind", f"must be one of {', '.join(EDGE_KINDS)}")
        if a.id == b.id:
            raise ValidationError("to_space", "a space cannot be joined to itself")
        if a.site_id != b.site_id:
            raise ValidationError("to_space", "both spaces must be in the same site")
        for end in (a, b):
            check_allowed(session, Permission.GRAPH_WRITE, end.path, f"space {end.id}")
        if length < 0 or not math.isfinite(length):
            raise ValidationError("length", "must be a finite number of metres, not negative")
        rows.append(
            WalkEdgeRow(site_id=a.site_id, from_space_id=a.id, to_space_id=b.id, kind=kind, length=length, via=via)
        )
    session.add_all(rows)
    session.flush()
    for row, (a, b, *_) in zip(rows, edges, strict=True):
        summary = {"to": b.id, "kind": row.kind}
        record(session, RegistryEvent("create", "walk_edge", row.id, scopes(a.path), summary))


def _spaces_of(session: Session, floors: set[int]) -> dict[int, list[tuple[float | None, int, BaseGeometry]]]:
    """Return the live spaces of some floors (the model's just written, and other models'), with polygons."""
    found: dict[int, list[tuple[float | None, int, BaseGeometry]]] = {}
    if not floors:
        return found
    stmt = select(SpaceRow.floor_id, SpaceRow.area, SpaceRow.id, SpaceRow.polygon_local).where(
        SpaceRow.floor_id.in_(sorted(floors)), SpaceRow.retired_at.is_(None), SpaceRow.polygon_local.is_not(None)
    )
    for floor_id, area, space_id, polygon in session.execute(stmt):
        shape = from_db(polygon)
        if shape is not None:
            found.setdefault(floor_id, []).append((area, space_id, shape))
    return found


def _smallest_under(spaces: list[tuple[float | None, int, BaseGeometry]], point: Point) -> int | None:
    """Return the space a point is in (boundary included), the smallest first as ORDER BY area puts it."""
    hits = [(area is None, area or 0.0, space_id) for area, space_id, shape in spaces if shape.intersects(point)]
    return min(hits)[2] if hits else None


def _check_inside(
    session: Session,
    place: PlaceRow,
    floor_id: int | None,
    point: Point,
    shapes: dict[int, BaseGeometry | None],
) -> None:
    """Refuse a position farther than TOLERANCE_M outside its space or its floor, as the use case does."""
    if isinstance(place, SpaceRow):
        polygon = _shape(shapes, place.id, place.polygon_local)
        if polygon is not None and polygon.distance(point) > TOLERANCE_M:
            raise ValidationError("position", f"({point.x}, {point.y}) is outside space {place.id} ({place.name})")
    floor = session.get(FloorRow, floor_id) if floor_id is not None else None
    if floor is not None:
        outline = _shape(shapes, floor.id, floor.outline_local)
        if outline is not None and outline.distance(point) > TOLERANCE_M:
            raise ValidationError("position", f"({point.x}, {point.y}) is outside floor {floor.id} ({floor.name})")


def _shape(cache: dict[int, BaseGeometry | None], key: int, element: Any) -> BaseGeometry | None:
    if key not in cache:
        cache[key] = from_db(element)
    return cache[key]


def _identify(session: Session, named: list[tuple[PlaceRow | DeviceRow, list[Identifier]]]) -> None:
    """Bind each row's identifiers; the caller looked them all up first (a name taken stops the import)."""
    for row, identifiers in named:
        place_id, device_id = (None, row.id) if isinstance(row, DeviceRow) else (row.id, None)
        session.add_all(
            IdentifierRow(namespace=i.namespace, value=i.value, place_id=place_id, device_id=device_id)
            for i in identifiers
        )
    session.flush()


def _audit(session: Session, entries: list[tuple[str, str, PlaceRow | DeviceRow]]) -> None:
    """Log one creation per row, on the audit chain in the order given."""
    audit_all(session, [Change(action, kind, row.id, None, snapshot(row)) for action, kind, row in entries])
