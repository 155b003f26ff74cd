"""Use cases that change devices and their typed relations: place, move, retire, link.

A device placed on a floor at a position inside a space is put in that space; a position outside
its floor's outline (or its space's polygon) is refused, so a sensor is never shown in thin air.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, principal_of
from twin.catalogue import DeviceKind, RelationKind
from twin.errors import NotFoundError, ValidationError
from twin.events import Action, RegistryEvent, record
from twin.graph.geometry import LOCAL_SRID, from_db, to_db
from twin.graph.identifiers import bind_identifiers
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.schemas import DeviceCreate, DeviceUpdate, RelationCreate
from twin.store.base import utcnow
from twin.store.models import DeviceRow, FloorRow, PlaceRow, RelationRow, SpaceRow

TOLERANCE_M = 0.5
"""How far outside its floor or space a device may sit: wall-mounted devices sit on the boundary."""


def get_device(session: Session, device_id: int) -> DeviceRow:
    """Load a device, or say that it does not exist (404 naming the id)."""
    row = session.get(DeviceRow, device_id)
    principal = principal_of(session)
    if row is None or (principal is not None and not principal.sees_device(row.path, row.kind)):
        raise NotFoundError(f"device {device_id} not found")
    return row


def _announce(session: Session, action: Action, row: DeviceRow, before: dict[str, Any] | None = None) -> None:
    record(
        session, RegistryEvent(action, "device", row.id, scopes(row.path, row.id), {"name": row.name, "kind": row.kind})
    )
    audit(session, action=f"device.{action}", kind="device", object_id=row.id, before=before, after=snapshot(row))


def _place(session: Session, row: DeviceRow, place_id: int, position: tuple[float, float, float] | None) -> None:
    """Set a device's container, floor, space and path from a place and a position, checking both."""
    place = get_place(session, PlaceRow, place_id, "place")
    check_allowed(session, Permission.GRAPH_WRITE, place.path, f"place {place.id}")
    if place.kind == "floor" and position is not None:
        inside = session.scalar(
            select(SpaceRow.id)
            .where(
                SpaceRow.floor_id == place.id,
                SpaceRow.retired_at.is_(None),
                SpaceRow.polygon_local.ST_Intersects(func.ST_MakePoint(position[0], position[1])),
            )
            .order_by(SpaceRow.area)
            .limit(1)
        )
        if inside is not None:
            place = get_place(session, PlaceRow, inside, "space")
    floor_id = space_id = None
    if isinstance(place, SpaceRow):
        space_id, floor_id = place.id, place.floor_id
    elif isinstance(place, FloorRow):
        floor_id = place.id
    if position is not None:
        _check_inside(session, place, floor_id, position)
    row.place_id, row.floor_id, row.space_id = place.id, floor_id, space_id
    row.site_id = place.site_id or place.id
    row.path = place.path
    row.position_local = to_db(Point(*position), LOCAL_SRID) if position is not None else None


def _check_inside(
    session: Session, place: PlaceRow, floor_id: int | None, position: tuple[float, float, float]
) -> None:
    point = Point(position[0], position[1])
    if isinstance(place, SpaceRow):
        polygon = from_db(place.polygon_local)
        if polygon is not None and polygon.distance(point) > TOLERANCE_M:
            raise ValidationError(
                "position", f"({position[0]}, {position[1]}) is outside space {place.id} ({place.name})"
            )
    if floor_id is not None:
        floor = session.get(FloorRow, floor_id)
        outline = from_db(floor.outline_local) if floor is not None else None
        if floor is not None and outline is not None and outline.distance(point) > TOLERANCE_M:
            raise ValidationError(
                "position", f"({position[0]}, {position[1]}) is outside floor {floor.id} ({floor.name})"
            )


def create_device(session: Session, data: DeviceCreate) -> DeviceRow:
    """Place a new device; its kind comes from the catalogue."""
    row = DeviceRow(kind=data.kind.value, name=data.name, tag=data.tag, properties=data.properties, health="unknown")
    _place(session, row, data.place_id, data.position)
    session.add(row)
    session.flush()
    bind_identifiers(session, data.identifiers, device_id=row.id)
    _announce(session, "create", row)
    return row


def update_device(session: Session, device_id: int, data: DeviceUpdate) -> DeviceRow:
    """Rename, re-tag or move a device; a move re-checks its place."""
    row = get_device(session, device_id)
    check_allowed(session, Permission.GRAPH_WRITE, row.path, f"device {row.id}")
    before = snapshot(row)
    if data.name is not None:
        row.name = data.name
    if data.tag is not None:
        row.tag = data.tag
    if data.properties is not None:
        row.properties = data.properties
    if data.place_id is not None or data.position is not None:
        position = data.position
        if position is None and row.position_local is not None:
            p = from_db(row.position_local)
            position = (p.x, p.y, p.z) if p is not None else None
        _place(session, row, data.place_id or row.place_id, position)
    session.flush()
    _announce(session, "update", row, before)
    return row


def retire_device(session: Session, device_id: int) -> DeviceRow:
    """Retire a device: it stays, with its alarms and tickets, marked as no longer installed."""
    row = get_device(session, device_id)
    check_allowed(session, Permission.GRAPH_WRITE, row.path, f"device {row.id}")
    before = snapshot(row)
    row.retired_at = utcnow()
    row.health = "retired"
    session.flush()
    _announce(session, "retire", row, before)
    return row


def add_relation(session: Session, data: RelationCreate) -> RelationRow:
    """Link a device to a place or a device; both ends in one site, and ``via`` must name a gateway."""
    source = get_device(session, data.source_device_id)
    check_allowed(session, Permission.GRAPH_WRITE, source.path, f"device {source.id}")
    if (data.target_place_id is None) == (data.target_device_id is None):
        raise ValidationError("target", "give exactly one of target_place_id and target_device_id")
    if data.target_place_id is not None:
        target_site = get_place(session, PlaceRow, data.target_place_id, "place").site_id
    else:
        target = get_device(session, data.target_device_id or 0)
        if target.id == source.id:
            raise ValidationError("target_device_id", "a device cannot be related to itself")
        if data.kind is RelationKind.VIA and target.kind != DeviceKind.GATEWAY.value:
            raise ValidationError("target_device_id", f"device {target.id} is a {target.kind}, not a gateway")
        if data.kind is RelationKind.VIA and _reaches(session, target.id, source.id):
            raise ValidationError(
                "target_device_id", f"gateway {target.id} already reaches device {source.id}: a cycle"
            )
        target_site = target.site_id
    if target_site != source.site_id:
        raise ValidationError("target", "both ends of a relation must be in the same site")
    row = RelationRow(
        kind=data.kind.value,
        source_device_id=source.id,
        target_place_id=data.target_place_id,
        target_device_id=data.target_device_id,
    )
    session.add(row)
    session.flush()
    record(session, RegistryEvent("create", "relation", row.id, scopes(source.path, source.id), {"kind": row.kind}))
    return row


def _reaches(session: Session, start: int, goal: int) -> bool:
    """Tell whether ``via`` links lead from one device to another (one recursive query)."""
    found = session.scalar(
        text(
            "WITH RECURSIVE hop(id) AS (SELECT CAST(:start AS bigint) UNION "
            "SELECT r.target_device_id FROM relations r JOIN hop ON r.source_device_id = hop.id "
            "WHERE r.kind = 'via' AND r.target_device_id IS NOT NULL) SELECT 1 FROM hop WHERE id = :goal LIMIT 1"
        ),
        {"start": start, "goal": goal},
    )
    return found is not None


def delete_relation(session: Session, relation_id: int) -> None:
    """Remove a typed link."""
    row = session.get(RelationRow, relation_id)
    if row is None:
        raise NotFoundError(f"relation {relation_id} not found")
    source = get_device(session, row.source_device_id)
    check_allowed(session, Permission.GRAPH_WRITE, source.path, f"device {source.id}")
    session.delete(row)
    session.flush()
    record(session, RegistryEvent("delete", "relation", relation_id, scopes(source.path, source.id), {}))
