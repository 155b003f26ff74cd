"""The device list, the view's hottest read: one SQL statement for the page, errors explained after.

The statement also renders the page as JSON (``device_page``): names, identifiers and all.

Filters that name other objects (``under`` a place, ``near_device``) are folded into the page's
statement as subqueries instead of being loaded first: a round trip saved on every page. A place
or device that is missing, retired or out of the caller's scope then simply matches nothing, so an
empty page is the one case that loads them, to answer 404 (or "has no position") as before.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    LargeBinary,
    Select,
    String,
    func,
    literal_column,
    null,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from twin.auth.scope import Principal
from twin.errors import ValidationError
from twin.graph import device_page
from twin.graph.devices import get_device
from twin.graph.geometry import LOCAL_SRID, parse
from twin.graph.places import get_place
from twin.store.models import DeviceRow, PlaceRow
from twin.store.prepared import Question, spread, value, values_of

MAX_LIMIT = 1000
_ROOT = aliased(PlaceRow, name="root")
_ORIGIN = aliased(DeviceRow, name="origin")
"""The place a list is under and the device it is near, as subqueries (built once: adapting costs)."""


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


def encode_cursor(last_id: int, distance: float | None = None) -> str:
    """Make an opaque cursor from the last row of a page: its id, and its distance when sorted by it."""
    raw = f"d:{last_id}" if distance is None else f"r:{distance!r}:{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, by_distance: bool = False) -> tuple[float | None, int]:
    """Read a cursor as (distance, id), refusing one this server did not make for this kind of list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != ("r" if by_distance else "d"):
            raise ValueError(prefix)
        if not by_distance:
            return None, int(value)
        distance, last_id = value.split(":")
        return float(distance), int(last_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor", "not a cursor returned by this API for this list") from exc


@dataclass(frozen=True)
class _Shape:
    """What decides a device list's SQL text: two requests of one shape differ only in their values."""

    scope: Hashable
    under: bool
    kinds: int
    health: int
    polygon: bool
    bbox: bool
    point: Literal["near", "device"] | None
    nearest: int | None
    cursor: bool
    include_retired: bool
    limit: int


@dataclass(frozen=True)
class DeviceAsk:
    """A device list asked: its question for the store, and how to read the answer into a page and a cursor."""

    query: DeviceQuery
    question: Question
    ranked: bool
    nearest: bool

    def answer(self, row: Sequence[Any]) -> tuple[device_page.Page, str | None]:
        """Return the page the question's row holds and the cursor of the next one (None at the end)."""
        page = device_page.read(row)
        if self.nearest or page.found <= self.query.limit or page.last_id is None:
            return page, None
        return page, encode_cursor(page.last_id, page.last_distance if self.ranked else None)


def ask(principal: Principal, q: DeviceQuery) -> DeviceAsk:
    """Check a device list's filters and make its question; the page holds ``distance`` when a point was given.

    Built from the caller's principal alone, with no session and no I/O: the server asks it on
    its event loop (``twin.api.deps.Reading``).
    """
    _check(q)
    polygon = parse("polygon", q.polygon, ("Polygon", "MultiPolygon"))
    point: Literal["near", "device"] | None = (
        "device" if q.near_device is not None else "near" if q.near is not None else None
    )
    ranked = point is not None and q.nearest is None
    after = None if q.cursor is None or (point is not None and not ranked) else decode_cursor(q.cursor, ranked)
    shape = _Shape(
        principal.grants,
        q.under is not None,
        len(q.kinds),
        len(q.health),
        polygon is not None,
        q.bbox is not None,
        point,
        q.nearest if point is not None else None,
        after is not None,
        q.include_retired,
        q.limit,
    )
    size = q.limit if shape.nearest is None else shape.nearest

    def build() -> Select[Any]:
        return device_page.statement(_statement(principal, shape), size, by_distance=point is not None)

    question = Question(("devices", shape), build, _values(q, polygon, after))
    return DeviceAsk(q, question, ranked, shape.nearest is not None)


def _values(q: DeviceQuery, polygon: BaseGeometry | None, after: tuple[float | None, int] | None) -> dict[str, Any]:
    """Return the values a request brings to its shape's statement, by placeholder name."""
    values: dict[str, Any] = {}
    if q.under is not None:
        values["under"] = q.under
    values.update(spread("kind", q.kinds))
    values.update(spread("health", q.health))
    if polygon is not None:
        values["polygon"] = polygon.wkb
    if q.bbox is not None:
        values.update(zip(("x0", "y0", "x1", "y1"), q.bbox, strict=True))
    if q.near_device is not None:
        values["near_device"] = q.near_device
    elif q.near is not None:
        values["near_x"], values["near_y"] = q.near
    if q.radius is not None and (q.near_device is not None or q.near is not None) and q.nearest is None:
        values["radius"] = q.radius
    if after is not None:
        distance, values["after_id"] = after
        if distance is not None:
            values["after_distance"] = distance
    return values


def _statement(principal: Principal, shape: _Shape) -> Select[Any]:
    """Build the statement of a shape, with a placeholder for each of its values (see ``_values``)."""
    stmt: Select[Any] = select(DeviceRow.id).where(principal.device_filter(DeviceRow.path, DeviceRow.kind))
    if not shape.include_retired:
        stmt = stmt.where(DeviceRow.retired_at.is_(None))
    root, origin = _ROOT, _ORIGIN
    under = value("under", BigInteger())
    if shape.under:
        live_root = (root.id == under) & root.retired_at.is_(None)
        stmt = stmt.where(DeviceRow.path.op("<@")(select(root.path).where(live_root).scalar_subquery()))
    if shape.kinds:
        stmt = stmt.where(DeviceRow.kind.in_(values_of("kind", String(), shape.kinds)))
    if shape.health:
        stmt = stmt.where(DeviceRow.health.in_(values_of("health", String(), shape.health)))
    near_device = value("near_device", BigInteger())
    centre: ColumnElement[Any] | None = None
    if shape.point == "device":
        seen = (origin.id == near_device) & principal.device_filter(origin.path, origin.kind)
        stmt = stmt.where(DeviceRow.site_id == select(origin.site_id).where(seen).scalar_subquery())
        centre = select(func.ST_Force2D(origin.position_local)).where(seen).scalar_subquery()
    elif shape.point == "near":
        x, y = value("near_x", Float()), value("near_y", Float())
        centre = func.ST_SetSRID(func.ST_MakePoint(x, y), LOCAL_SRID)
    spatial = shape.polygon or shape.bbox or centre is not None
    if spatial and shape.point != "device" and shape.under:
        stmt = stmt.where(DeviceRow.site_id == select(root.site_id).where(root.id == under).scalar_subquery())
    if shape.polygon:
        polygon = func.ST_GeomFromWKB(value("polygon", LargeBinary()), LOCAL_SRID)
        stmt = stmt.where(func.ST_Intersects(DeviceRow.position_local, polygon))
    if shape.bbox:
        corners = (value(name, Float()) for name in ("x0", "y0", "x1", "y1"))
        stmt = stmt.where(DeviceRow.position_local.op("&&")(func.ST_MakeEnvelope(*corners, LOCAL_SRID)))
    after_id = value("after_id", BigInteger())
    if centre is None:
        stmt = stmt.add_columns(null().label("distance"))
        if shape.cursor:
            stmt = stmt.where(DeviceRow.id > after_id)
        return stmt.order_by(DeviceRow.id).limit(_inline(shape.limit + 1))
    distance = DeviceRow.position_local.op("<->", return_type=Float)(centre)
    stmt = stmt.add_columns(distance.label("distance"))
    if shape.point == "device":
        stmt = stmt.where(DeviceRow.id != near_device)
    if shape.nearest is not None:
        # Ordered by distance alone: a tie-breaking id would stop the GiST index from walking
        # outwards (a sort of every device instead, 70 ms at 100,000).
        return stmt.where(DeviceRow.position_local.is_not(None)).order_by(distance).limit(_inline(shape.nearest))
    if shape.cursor:
        stmt = stmt.where(tuple_(distance, DeviceRow.id) > tuple_(value("after_distance", Float()), after_id))
    edge = _page_edge(stmt, distance, centre, value("radius", Float()), shape.limit + 1)
    stmt = stmt.where(func.ST_DWithin(DeviceRow.position_local, centre, edge)).order_by(distance, DeviceRow.id)
    return stmt.limit(_inline(shape.limit + 1))


def _page_edge(
    stmt: Select[Any],
    distance: ColumnElement[float],
    centre: ColumnElement[Any],
    radius: ColumnElement[float],
    rows: int,
) -> ColumnElement[float]:
    """Return how far a radius page reaches: the distance of its last row, or the radius if nearer.

    Sorting the whole circle to keep a page is what made a radius list slow: 30 m around a
    tower's core holds its 5,000 devices at 100,000, found and sorted in 6–7 ms. The GiST index
    walks outwards from the centre instead (inside the radius's box, so a rare kind costs no more
    than the circle did) and stops at the page's last row; the page is then the smaller circle
    reaching that far, sorted with its ties by id, so that the cursor stays exact. The micrometre
    added keeps a row that ``ST_DWithin`` and ``<->`` would round apart.

    A radius list is sorted nearest first, ties by id, because that is what a person asks of
    "within 30 m of this hydrant"; its cursor carries the last distance as well as the id.
    """
    walk = (
        stmt.where(DeviceRow.position_local.op("&&")(func.ST_Expand(centre, radius)))
        .order_by(distance)
        .limit(_inline(rows))
        .subquery("walk")
    )
    reach = select(func.max(walk.c.distance) + 1e-6).scalar_subquery()
    return func.least(radius, reach)


def _inline(limit: int) -> ColumnElement[int]:
    """Spell a LIMIT in the SQL text rather than as a parameter.

    psycopg prepares a statement run often, and PostgreSQL's generic plan for an unknown LIMIT
    beside ``ORDER BY id`` walks the primary key through every device (50 ms at 100,000 devices)
    where the indexed filters find the page in under one; a known LIMIT keeps the plan honest.
    """
    return literal_column(str(int(limit)), Integer)


def _check(q: DeviceQuery) -> None:
    """Refuse filters that make no sense whatever the store holds."""
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    point = q.near is not None or q.near_device is not None
    if (q.polygon is not None or q.bbox is not None or point) and q.under is None and q.near_device is None:
        raise ValidationError(
            "under", "spatial filters are in a site's local frame: give under= (a place) or near_device="
        )
    if q.bbox is not None and (q.bbox[0] > q.bbox[2] or q.bbox[1] > q.bbox[3]):
        raise ValidationError("bbox", "must be min_x,min_y,max_x,max_y")
    if point and q.nearest is not None and not 1 <= q.nearest <= MAX_LIMIT:
        raise ValidationError("nearest", f"must be between 1 and {MAX_LIMIT}")
    if point and q.nearest is None and (q.radius is None or q.radius <= 0):
        raise ValidationError("radius", "give a positive radius in metres with a point, or nearest=N")


def explain_empty(session: Session, q: DeviceQuery) -> None:
    """Say why a list came back empty when a named object is the reason (404 for a place, 422 for a device).

    Asked only for an empty page: a place or device that is missing, retired or out of the
    caller's scope matches nothing in the page's statement instead of being loaded first.
    """
    if q.under is not None:
        get_place(session, PlaceRow, q.under, "place")
    if q.near_device is not None and get_device(session, q.near_device).position_local is None:
        raise ValidationError("near_device", f"device {q.near_device} has no position")
