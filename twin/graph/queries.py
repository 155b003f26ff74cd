"""Read-only questions people ask of the graph, each one indexed SQL query (IfcOpenShell's util habit).

"Every smoke detector on floor 12 of building 3", "what is within 30 m of this hydrant", "which
unit is this point in", "which households does pump P2 feed", "where is 3-2-1801". Spatial
questions are asked in a site's local frame, where distances are metres.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, and_, func, null, or_, select, text
from sqlalchemy.orm import Session

from twin.auth.scope import device_condition, place_condition
from twin.errors import ValidationError
from twin.graph.addresses import parse_address
from twin.graph.devices import get_device
from twin.graph.geometry import LOCAL_SRID, from_db, parse, to_db
from twin.graph.places import get_place
from twin.store.models import DeviceRow, FloorRow, PlaceRow, RelationRow, SpaceRow

MAX_LIMIT = 1000


@dataclass
class DeviceQuery:
    """Filters of the device list; every one is optional and they combine with AND."""

    under: int | None = None
    kinds: Sequence[str] = ()
    health: Sequence[str] = ()
    polygon: dict | None = None  # type: ignore[type-arg]
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float] | None = None
    near_device: int | None = None
    radius: float | None = None
    nearest: int | None = None
    include_retired: bool = False
    cursor: str | None = None
    limit: int = 100
    extra: dict[str, str] = field(default_factory=dict)


def encode_cursor(last_id: int) -> str:
    """Make an opaque cursor from the last id of a page."""
    return base64.urlsafe_b64encode(f"d:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Read a cursor, refusing one this server did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "d":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor", "not a cursor returned by this API") from exc


LISTING = (
    DeviceRow.id,
    DeviceRow.kind,
    DeviceRow.name,
    DeviceRow.tag,
    DeviceRow.place_id,
    DeviceRow.floor_id,
    DeviceRow.space_id,
    DeviceRow.path,
    DeviceRow.health,
    DeviceRow.last_seen,
    DeviceRow.properties,
    func.ST_X(DeviceRow.position_local).label("x"),
    func.ST_Y(DeviceRow.position_local).label("y"),
    func.ST_Z(DeviceRow.position_local).label("z"),
)
"""The columns a device list shows: plain values, no ORM objects and no geometry to decode."""


def find_devices(session: Session, q: DeviceQuery) -> tuple[list[Row[Any]], str | None]:
    """Return a page of devices (with ``distance`` when a point was given) and the next cursor."""
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    stmt: Select = select(*LISTING).where(  # type: ignore[type-arg]
        device_condition(session, DeviceRow.path, DeviceRow.kind)
    )
    if not q.include_retired:
        stmt = stmt.where(DeviceRow.retired_at.is_(None))
    site_id: int | None = None
    if q.under is not None:
        place = get_place(session, PlaceRow, q.under, "place")
        site_id = place.site_id
        stmt = stmt.where(DeviceRow.path.op("<@")(func.text2ltree(place.path)))
    if q.kinds:
        stmt = stmt.where(DeviceRow.kind.in_(q.kinds))
    if q.health:
        stmt = stmt.where(DeviceRow.health.in_(q.health))
    centre = _centre(session, q)
    if centre is not None and q.near_device is not None:
        site_id = get_device(session, q.near_device).site_id
    spatial = q.polygon is not None or q.bbox is not None or centre is not None
    if spatial and site_id is None:
        raise ValidationError(
            "under", "spatial filters are in a site's local frame: give under= (a place) or near_device="
        )
    if site_id is not None:
        stmt = stmt.where(DeviceRow.site_id == site_id)
    if q.polygon is not None:
        polygon = parse("polygon", q.polygon, ("Polygon", "MultiPolygon"))
        stmt = stmt.where(func.ST_Intersects(DeviceRow.position_local, to_db(polygon, LOCAL_SRID)))
    if q.bbox is not None:
        x0, y0, x1, y1 = q.bbox
        if x0 > x1 or y0 > y1:
            raise ValidationError("bbox", "must be min_x,min_y,max_x,max_y")
        stmt = stmt.where(DeviceRow.position_local.op("&&")(func.ST_MakeEnvelope(x0, y0, x1, y1, LOCAL_SRID)))
    if centre is None:
        stmt = stmt.add_columns(null().label("distance"))
    else:
        point = func.ST_SetSRID(func.ST_MakePoint(*centre), LOCAL_SRID)
        stmt = stmt.add_columns(func.ST_Distance(func.ST_Force2D(DeviceRow.position_local), point).label("distance"))
        if q.near_device is not None:
            stmt = stmt.where(DeviceRow.id != q.near_device)
        if q.nearest is not None:
            if not 1 <= q.nearest <= MAX_LIMIT:
                raise ValidationError("nearest", f"must be between 1 and {MAX_LIMIT}")
            stmt = (
                stmt.where(DeviceRow.position_local.is_not(None))
                .order_by(DeviceRow.position_local.op("<->")(point))
                .limit(q.nearest)
            )
            return list(session.execute(stmt).all()), None
        if q.radius is None or q.radius <= 0:
            raise ValidationError("radius", "give a positive radius in metres with a point, or nearest=N")
        stmt = stmt.where(func.ST_DWithin(DeviceRow.position_local, point, q.radius))
    if q.cursor is not None:
        stmt = stmt.where(DeviceRow.id > decode_cursor(q.cursor))
    rows = list(session.execute(stmt.order_by(DeviceRow.id).limit(q.limit + 1)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return rows, encode_cursor(rows[-1].id) if more else None


def _centre(session: Session, q: DeviceQuery) -> tuple[float, float] | None:
    if q.near_device is not None:
        device = get_device(session, q.near_device)
        point = from_db(device.position_local)
        if point is None:
            raise ValidationError("near_device", f"device {device.id} has no position")
        return (point.x, point.y)
    return q.near


def children(session: Session, place_id: int) -> list[PlaceRow]:
    """Return the places directly under a place."""
    get_place(session, PlaceRow, place_id, "place")
    stmt = (
        select(PlaceRow)
        .where(PlaceRow.parent_id == place_id, PlaceRow.retired_at.is_(None), place_condition(session, PlaceRow.path))
        .order_by(PlaceRow.id)
    )
    return list(session.scalars(stmt))


def subtree(session: Session, place_id: int, kinds: Sequence[str] = ()) -> list[PlaceRow]:
    """Return every place under a place (itself excluded), with one indexed ltree query."""
    place = get_place(session, PlaceRow, place_id, "place")
    stmt = select(PlaceRow).where(
        PlaceRow.path.op("<@")(func.text2ltree(place.path)),
        PlaceRow.id != place.id,
        PlaceRow.retired_at.is_(None),
        place_condition(session, PlaceRow.path),
    )
    if kinds:
        stmt = stmt.where(PlaceRow.kind.in_(kinds))
    return list(session.scalars(stmt.order_by(PlaceRow.path)))


def ancestors(session: Session, place_id: int) -> list[PlaceRow]:
    """Return the places above a place, site first."""
    place = get_place(session, PlaceRow, place_id, "place")
    stmt = select(PlaceRow).where(PlaceRow.path.op("@>")(func.text2ltree(place.path)), PlaceRow.id != place.id)
    return list(session.scalars(stmt.order_by(func.nlevel(PlaceRow.path))))


def space_at(session: Session, floor_id: int, x: float, y: float) -> SpaceRow | None:
    """Return the (smallest) space of a floor containing a point of the local frame."""
    get_place(session, FloorRow, floor_id, "floor")
    stmt = (
        select(SpaceRow)
        .where(
            SpaceRow.floor_id == floor_id,
            SpaceRow.retired_at.is_(None),
            place_condition(session, SpaceRow.path),
            func.ST_Intersects(SpaceRow.polygon_local, func.ST_SetSRID(func.ST_MakePoint(x, y), LOCAL_SRID)),
        )
        .order_by(SpaceRow.area)
        .limit(1)
    )
    return session.scalar(stmt)


def households_fed_by(session: Session, device_id: int) -> list[SpaceRow]:
    """Return the household units a device feeds, through places it feeds and devices it feeds in turn."""
    get_device(session, device_id)
    fed = text(
        "WITH RECURSIVE fed(device_id) AS (SELECT CAST(:device AS bigint) UNION "
        "SELECT r.target_device_id FROM relations r JOIN fed ON r.source_device_id = fed.device_id "
        "WHERE r.kind = 'feeds' AND r.target_device_id IS NOT NULL) "
        "SELECT p.path FROM relations r JOIN fed ON r.source_device_id = fed.device_id "
        "JOIN places p ON p.id = r.target_place_id WHERE r.kind = 'feeds' "
        "UNION SELECT d.path FROM devices d JOIN fed ON d.id = fed.device_id WHERE fed.device_id <> :device"
    )
    paths = [row[0] for row in session.execute(fed, {"device": device_id})]
    if not paths:
        return []
    conditions = [PlaceRow.path.op("<@")(func.text2ltree(path)) for path in paths]
    stmt = (
        select(SpaceRow)
        .where(
            SpaceRow.space_kind == "unit",
            SpaceRow.retired_at.is_(None),
            or_(*conditions),
            place_condition(session, SpaceRow.path),
        )
        .order_by(SpaceRow.address, SpaceRow.id)
    )
    return list(session.scalars(stmt))


def find_unit(session: Session, address: str, site_id: int | None = None) -> list[SpaceRow]:
    """Return the units an address names (one per site that has it), in any common spelling."""
    parsed = parse_address(address)
    if parsed is None:
        raise ValidationError("address", f"{address!r} is not a unit address such as 3-2-1801 or 3栋2单元1801室")
    stmt = select(SpaceRow).where(
        SpaceRow.space_kind == "unit", SpaceRow.retired_at.is_(None), place_condition(session, SpaceRow.path)
    )
    if parsed.entrance is None:
        stmt = stmt.where(SpaceRow.building_no == parsed.building, SpaceRow.room_no == parsed.room)
    else:
        stmt = stmt.where(SpaceRow.address == parsed.normal)
    if site_id is not None:
        stmt = stmt.where(SpaceRow.site_id == site_id)
    return list(session.scalars(stmt.order_by(SpaceRow.id)))


def search(session: Session, q: str, limit: int = 20) -> list[PlaceRow | DeviceRow]:
    """Find units by address, devices by tag or name, and places by name or code."""
    q = q.strip()
    if not q:
        raise ValidationError("q", "give something to search for")
    hits: list[PlaceRow | DeviceRow] = []
    if parse_address(q) is not None:
        hits.extend(find_unit(session, q))
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    devices = (
        select(DeviceRow)
        .where(
            DeviceRow.retired_at.is_(None),
            device_condition(session, DeviceRow.path, DeviceRow.kind),
            or_(DeviceRow.tag.ilike(pattern), DeviceRow.name.ilike(pattern)),
        )
        .order_by(func.length(DeviceRow.name), DeviceRow.id)
        .limit(limit)
    )
    places = (
        select(PlaceRow)
        .where(
            PlaceRow.retired_at.is_(None),
            place_condition(session, PlaceRow.path),
            or_(PlaceRow.name.ilike(pattern), PlaceRow.code.ilike(pattern)),
            and_(PlaceRow.kind != "space")
            | (PlaceRow.id.in_(select(SpaceRow.id).where(SpaceRow.space_kind != "unit"))),
        )
        .order_by(func.length(PlaceRow.name), PlaceRow.id)
        .limit(limit)
    )
    hits.extend(session.scalars(places))
    hits.extend(session.scalars(devices))
    seen: set[tuple[str, int]] = set()
    unique = []
    for hit in hits:
        key = ("device" if isinstance(hit, DeviceRow) else "place", hit.id)
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique[:limit]


def relations_of(session: Session, device_id: int) -> list[RelationRow]:
    """Return the typed links from and to a device."""
    get_device(session, device_id)
    stmt = (
        select(RelationRow)
        .where((RelationRow.source_device_id == device_id) | (RelationRow.target_device_id == device_id))
        .order_by(RelationRow.id)
    )
    return list(session.scalars(stmt))
