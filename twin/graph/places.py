"""Use cases that change places: create a site, building, floor or space; rename, move, delete.

Each enforces the rule of its level beside the model (NetBox's habit) and says it in words: a
building stands on a site, a floor in a building, a space on a floor; a place never moves under
itself; a floor's level is unique in its building. Every change records a registry event that is
published after the commit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.delegation import require_global
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, principal_of
from twin.errors import NotFoundError, ValidationError
from twin.events import Action, RegistryEvent, record
from twin.graph.addresses import parse_address
from twin.graph.frame import local_frame_proj as frame_proj
from twin.graph.geometry import LOCAL_SRID, WGS84, parse, to_db
from twin.graph.identifiers import bind_identifiers
from twin.graph.paths import level_of, scopes
from twin.schemas import BuildingCreate, FloorCreate, PlaceUpdate, SiteCreate, SpaceCreate
from twin.store.ltree import ids_of
from twin.store.models import BuildingRow, DeviceRow, FloorRow, PlaceRow, SiteRow, SpaceRow

P = TypeVar("P", bound=PlaceRow)
PARENT_LEVEL = {"building": "site", "floor": "building", "space": "floor"}
POLYGONS = ("Polygon",)


def _next_id(session: Session) -> int:
    return int(session.execute(text("SELECT nextval('places_id_seq')")).scalar_one())


def get_place(session: Session, model: type[P], place_id: int, what: str | None = None) -> P:
    """Load a place of a level, or say that no such place exists (404 naming the id)."""
    row = session.get(model, place_id)
    principal = principal_of(session)
    if row is None or row.retired_at is not None or (principal is not None and not principal.sees_place(row.path)):
        raise NotFoundError(f"{what or model.__tablename__.rstrip('s')} {place_id} not found")
    return row


def _announce(session: Session, action: Action, row: PlaceRow, before: dict[str, Any] | None = None) -> None:
    record(session, RegistryEvent(action, row.kind, row.id, scopes(row.path), {"name": row.name}))
    audit(
        session,
        action=f"{row.kind}.{action}",
        kind=row.kind,
        object_id=row.id,
        before=before,
        after=None if action == "delete" else snapshot(row),
    )


def create_site(session: Session, data: SiteCreate) -> SiteRow:
    """Create a community whose origin defines its local metric frame (administrators only)."""
    require_global(session, Permission.USER_ADMIN, "create a site")
    boundary = parse("boundary", data.boundary, ("Polygon", "MultiPolygon"))
    if boundary is not None and boundary.geom_type == "Polygon":
        from shapely.geometry import MultiPolygon

        boundary = MultiPolygon([boundary])
    new_id = _next_id(session)
    row = SiteRow(
        id=new_id,
        parent_id=None,
        site_id=new_id,
        path=str(new_id),
        name=data.name,
        code=data.code,
        properties=data.properties,
        origin_lat=data.origin_lat,
        origin_lon=data.origin_lon,
        origin_height=data.origin_height,
        boundary=to_db(boundary, WGS84),
    )
    session.add(row)
    session.flush()
    bind_identifiers(session, data.identifiers, place_id=new_id)
    _announce(session, "create", row)
    return row


def create_building(session: Session, data: BuildingCreate) -> BuildingRow:
    """Put a building on a site; its footprint is given in the site's local frame."""
    site = get_place(session, SiteRow, data.site_id, "site")
    check_allowed(session, Permission.GRAPH_WRITE, site.path, f"site {site.id}")
    footprint_local = parse("footprint_local", data.footprint_local, POLYGONS)
    new_id = _next_id(session)
    row = BuildingRow(
        id=new_id,
        parent_id=site.id,
        site_id=site.id,
        path=f"{site.path}.{new_id}",
        name=data.name,
        code=data.code,
        properties=data.properties,
        footprint_local=to_db(footprint_local, LOCAL_SRID),
        height=data.height,
        address=data.address,
        floors_above=data.floors_above,
        floors_below=data.floors_below,
    )
    session.add(row)
    session.flush()
    if footprint_local is not None:
        _derive_footprint(session, row.id, site)
    bind_identifiers(session, data.identifiers, place_id=new_id)
    _announce(session, "create", row)
    return row


def _derive_footprint(session: Session, building_id: int, site: SiteRow) -> None:
    """Compute the map footprint (WGS84) from the local one, in PostGIS with the site's own frame."""
    session.execute(
        text(
            "UPDATE buildings SET footprint = ST_Transform(ST_SetSRID(footprint_local, 0), :proj, 4326) WHERE id = :id"
        ),
        {"proj": local_frame_proj(site), "id": building_id},
    )


def local_frame_proj(site: SiteRow) -> str:
    """Return the PROJ definition of a site's local frame (the one ``gis.LocalFrame`` uses too)."""
    return frame_proj(site.origin_lat, site.origin_lon, site.origin_height)


def create_floor(session: Session, data: FloorCreate) -> FloorRow:
    """Add a storey to a building; two floors of one building never share a level."""
    building = get_place(session, BuildingRow, data.building_id, "building")
    check_allowed(session, Permission.GRAPH_WRITE, building.path, f"building {building.id}")
    clash = session.scalar(
        select(FloorRow.id).where(
            FloorRow.building_id == building.id, FloorRow.level == data.level, FloorRow.retired_at.is_(None)
        )
    )
    if clash is not None:
        raise ValidationError("level", f"building {building.id} already has floor {clash} at level {data.level}")
    outline = parse("outline_local", data.outline_local, POLYGONS)
    new_id = _next_id(session)
    row = FloorRow(
        id=new_id,
        parent_id=building.id,
        site_id=building.site_id,
        path=f"{building.path}.{new_id}",
        name=data.name,
        properties=data.properties,
        building_id=building.id,
        level=data.level,
        elevation=data.elevation,
        height=data.height,
        outline_local=to_db(outline, LOCAL_SRID),
    )
    session.add(row)
    session.flush()
    bind_identifiers(session, data.identifiers, place_id=new_id)
    _announce(session, "create", row)
    return row


def space_row(session: Session, data: SpaceCreate, new_id: int | None = None) -> SpaceRow:
    """Check a new space against its floor and build its row, with the id given or a fresh one.

    Shared by ``create_space`` and the IFC import's batch (``bim.batch``), which draws the ids
    of a model's spaces together: both refuse what the other would.
    """
    floor = get_place(session, FloorRow, data.floor_id, "floor")
    check_allowed(session, Permission.GRAPH_WRITE, floor.path, f"floor {floor.id}")
    polygon = parse("polygon_local", data.polygon_local, POLYGONS)
    address = None
    if data.address is not None:
        address = parse_address(data.address)
        if address is None:
            raise ValidationError(
                "address", f"{data.address!r} is not a unit address such as 3-2-1801 or 3栋2单元1801室"
            )
    if new_id is None:
        new_id = _next_id(session)
    return SpaceRow(
        id=new_id,
        parent_id=floor.id,
        site_id=floor.site_id,
        path=f"{floor.path}.{new_id}",
        name=data.name,
        properties=data.properties,
        floor_id=floor.id,
        space_kind=data.kind.value,
        polygon_local=to_db(polygon, LOCAL_SRID),
        area=data.area if data.area is not None else (round(polygon.area, 2) if polygon is not None else None),
        building_no=address.building if address else None,
        entrance_no=address.entrance if address else None,
        room_no=address.room if address else None,
        address=address.normal if address else None,
    )


def create_space(session: Session, data: SpaceCreate) -> SpaceRow:
    """Add a space to a floor; a unit's address is normalised (3栋2单元1801室 → 3-2-1801)."""
    row = space_row(session, data)
    session.add(row)
    session.flush()
    bind_identifiers(session, data.identifiers, place_id=row.id)
    _announce(session, "create", row)
    return row


def update_place(session: Session, place_id: int, data: PlaceUpdate) -> PlaceRow:
    """Rename or move a place; a move re-paths its whole subtree and its devices in two statements."""
    row = get_place(session, PlaceRow, place_id, "place")
    check_allowed(session, Permission.GRAPH_WRITE, row.path, f"place {row.id}")
    before = snapshot(row)
    if data.name is not None:
        row.name = data.name
    if data.code is not None:
        row.code = data.code
    if data.properties is not None:
        row.properties = data.properties
    if data.parent_id is not None and data.parent_id != row.parent_id:
        _move(session, row, data.parent_id)
    session.flush()
    session.refresh(row)
    _announce(session, "update", row, before)
    return row


def _move(session: Session, row: PlaceRow, parent_id: int) -> None:
    parent = get_place(session, PlaceRow, parent_id, "parent")
    check_allowed(session, Permission.GRAPH_WRITE, parent.path, f"place {parent.id}")
    if parent.id == row.id or row.id in ids_of(parent.path):
        raise ValidationError("parent_id", f"place {row.id} cannot move under {parent.id}: that would make a cycle")
    if PARENT_LEVEL.get(row.kind) != parent.kind:
        raise ValidationError(
            "parent_id",
            f"a {row.kind} must be placed in a {PARENT_LEVEL.get(row.kind, 'nothing')}, not a {parent.kind}",
        )
    if parent.site_id != row.site_id:
        raise ValidationError("parent_id", "a place cannot move to another site")
    old, new = row.path, f"{parent.path}.{row.id}"
    params = {"old": old, "new": new}
    for table in ("places", "devices"):
        session.execute(
            text(
                f"UPDATE {table} SET path = CASE WHEN path = CAST(:old AS ltree) THEN CAST(:new AS ltree) "
                "ELSE CAST(:new AS ltree) || subpath(path, nlevel(CAST(:old AS ltree))) END "
                "WHERE path <@ CAST(:old AS ltree)"
            ),
            params,
        )
    row.parent_id = parent.id
    if isinstance(row, FloorRow):
        row.building_id = parent.id
    elif isinstance(row, SpaceRow):
        row.floor_id = parent.id
        session.execute(update(DeviceRow).where(DeviceRow.space_id == row.id).values(floor_id=parent.id))
    session.expire(row, ["path"])


def delete_place(session: Session, place_id: int) -> None:
    """Delete an empty place; one with places or devices under it is refused, never cascaded away."""
    row = get_place(session, PlaceRow, place_id, "place")
    check_allowed(session, Permission.GRAPH_WRITE, row.path, f"place {row.id}")
    has_children = session.scalar(select(exists().where(PlaceRow.parent_id == row.id)))
    has_devices = session.scalar(select(func.count()).select_from(DeviceRow).where(DeviceRow.place_id == row.id))
    if has_children or has_devices:
        raise ValidationError("id", f"{row.kind} {row.id} still holds places or devices; move or delete them first")
    before = snapshot(row)
    event = RegistryEvent("delete", row.kind, row.id, scopes(row.path), {"name": row.name})
    session.delete(row)
    session.flush()
    record(session, event)
    audit(session, action=f"{row.kind}.delete", kind=row.kind, object_id=row.id, before=before)


__all__ = [
    "create_building",
    "create_floor",
    "create_site",
    "create_space",
    "delete_place",
    "get_place",
    "level_of",
    "local_frame_proj",
    "update_place",
]
