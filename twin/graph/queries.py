"""Read-only questions people ask of the graph, each one indexed SQL query (IfcOpenShell's util habit).

"Every smoke detector on floor 12 of building 3", "what is within 30 m of this hydrant", "which
unit is this point in", "which households does pump P2 feed", "where is 3-2-1801". Spatial
questions are asked in a site's local frame, where distances are metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Row, Select, String, and_, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from twin.auth.scope import Principal, device_condition, place_condition, principal_of
from twin.errors import ValidationError
from twin.graph import place_page
from twin.graph.addresses import parse_address
from twin.graph.devices import get_device
from twin.graph.geometry import LOCAL_SRID
from twin.graph.places import get_place
from twin.store.models import DeviceRow, FloorRow, PlaceRow, RelationRow, SpaceRow
from twin.store.prepared import Question, spread, value, values_of

PLACE_LISTING = (
    PlaceRow.id,
    PlaceRow.kind,
    PlaceRow.name,
    PlaceRow.code,
    PlaceRow.parent_id,
    PlaceRow.path,
    PlaceRow.properties,
)
"""The columns a list of places shows (what every level has): plain values, no ORM objects."""


_ROOT = aliased(PlaceRow, name="root")


def _live(place_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    root = _ROOT
    return select(root.path).where(root.id == place_id, root.retired_at.is_(None)).scalar_subquery()


def _listed(session: Session, place_id: int, stmt: Select[Any, Any]) -> bytes:
    """Render places found under a place; when there are none, check the place itself (404 if unseen).

    A place seen under another means the caller sees that other too (grants are subtrees), so
    only an empty answer needs the extra look-up.
    """
    items, count = place_page.render(session, stmt)
    if not count:
        get_place(session, PlaceRow, place_id, "place")
    return items


def children(session: Session, place_id: int) -> bytes:
    """Return the places directly under a place, by id, as a JSON array of ``PlacePublic`` items."""
    stmt = select(PlaceRow.id, PlaceRow.id.label("sort")).where(
        PlaceRow.path.op("<@")(_live(place_id)),
        PlaceRow.parent_id == place_id,
        PlaceRow.retired_at.is_(None),
        place_condition(session, PlaceRow.path),
    )
    return _listed(session, place_id, stmt)


def subtree(principal: Principal, place_id: int, kinds: Sequence[str] = ()) -> Question:
    """Ask for every place under a place (itself excluded), by path, with one indexed ltree query.

    Its answer is a ``place_page`` row; an empty one is explained by loading the place (404 if
    unseen). Kept by shape (``twin.store.prepared``): a screen asks it at every step down.
    """

    def build() -> Select[Any, Any]:
        place = value("place", BigInteger())
        stmt = select(PlaceRow.id, PlaceRow.path.label("sort")).where(
            PlaceRow.path.op("<@")(_live(place)),
            PlaceRow.id != place,
            PlaceRow.retired_at.is_(None),
            principal.place_filter(PlaceRow.path),
        )
        return stmt.where(PlaceRow.kind.in_(values_of("kind", String(), len(kinds)))) if kinds else stmt

    values = {"place": place_id, **spread("kind", kinds)}
    return place_page.shaped(("subtree", principal.grants, len(kinds)), build, values)


def ancestors(session: Session, place_id: int) -> list[Row[Any]]:
    """Return the places above a place, site first, as plain rows: the place itself comes along to be checked."""
    stmt = select(*PLACE_LISTING).where(PlaceRow.path.op("@>")(_live(place_id)))
    rows = list(session.execute(stmt.order_by(func.nlevel(PlaceRow.path))).all())
    principal = principal_of(session)
    if not rows or (principal is not None and not principal.sees_place(rows[-1].path)):
        get_place(session, PlaceRow, place_id, "place")
    return rows[:-1]


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
    visible = place_condition(session, SpaceRow.path)
    return list(session.scalars(_units(visible, select(SpaceRow), _unit_criteria(address, site_id))))


def units_listed(principal: Principal, address: str, site_id: int | None = None) -> Question:
    """Ask for the units an address names, as ``place_page`` items (the address search's list).

    An address that is no unit address is refused here, before anything is asked. Kept by shape
    (``twin.store.prepared``): the search box asks it at every key.
    """
    values = _unit_criteria(address, site_id)

    def build() -> Select[Any, Any]:
        placeholders = {name: value(name, _UNIT_COLUMNS[name].type) for name in values}
        stmt: Any = select(SpaceRow.id, SpaceRow.id.label("sort"))
        return _units(principal.place_filter(SpaceRow.path), stmt, placeholders)

    return place_page.shaped(("units", principal.grants, frozenset(values)), build, values)


_UNIT_COLUMNS: dict[str, Any] = {
    "address": SpaceRow.address,
    "building_no": SpaceRow.building_no,
    "room_no": SpaceRow.room_no,
    "site_id": SpaceRow.site_id,
}
"""The columns an address and a site are matched on, by criterion."""


def _unit_criteria(address: str, site_id: int | None) -> dict[str, Any]:
    """Return what an address names, by column: the whole address, or a building and room where no entrance is given."""
    parsed = parse_address(address)
    if parsed is None:
        raise ValidationError("address", f"{address!r} is not a unit address such as 3-2-1801 or 3栋2单元1801室")
    criteria: dict[str, Any] = (
        {"building_no": parsed.building, "room_no": parsed.room}
        if parsed.entrance is None
        else {"address": parsed.normal}
    )
    if site_id is not None:
        criteria["site_id"] = site_id
    return criteria


def _units(visible: ColumnElement[bool], stmt: Select[Any], criteria: dict[str, Any]) -> Select[Any]:
    """Narrow a statement to the live units the caller sees matching the criteria (values, or placeholders for them)."""
    stmt = stmt.where(SpaceRow.space_kind == "unit", SpaceRow.retired_at.is_(None), visible)
    for name, given in criteria.items():
        stmt = stmt.where(_UNIT_COLUMNS[name] == given)
    return stmt.order_by(SpaceRow.id)


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
