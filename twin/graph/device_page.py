"""A page of the device list rendered as JSON by PostgreSQL, in the statement that finds it.

The device list is the view's hottest read, and at 100,000 devices its time went less to finding
the page than to everything after: a second round trip for the names on the paths and the
identifiers, then a Python dict per device and a JSON encoder over them (4 ms of a 13 ms
within-30-m page, against well under a millisecond for PostgreSQL to build the same text). So
the page's statement ends in ``json_agg``, and the API sends the text it returns as it is.

The items have exactly the shape ``views.device_items`` gives a device in Python (which still
renders single devices and ORM rows); a test holds the two to the same answer, so that they
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

from twin.graph.paths import LEVELS

_LEVELS = ", ".join(f"'{level}'" for level in LEVELS)
_STEPS = f"""coalesce((
    SELECT json_agg(json_build_object(
        'kind', (ARRAY[{_LEVELS}])[step.n], 'id', step.id, 'name', coalesce(named.name, '?')
    ) ORDER BY step.n)
    FROM unnest(string_to_array(r.path::text, '.')::bigint[]) WITH ORDINALITY AS step(id, n)
    LEFT JOIN places AS named ON named.id = step.id
), '[]')"""
_IDENTIFIERS = """coalesce((
    SELECT json_agg(json_build_object('namespace', i.namespace, 'value', i.value) ORDER BY i.namespace, i.value)
    FROM identifiers AS i WHERE i.device_id = r.id
), '[]')"""
_POSITION = """CASE WHEN r.x IS NULL THEN NULL ELSE json_build_array(
    round(r.x::numeric, 3), round(r.y::numeric, 3), round(coalesce(r.z, 0)::numeric, 3)
) END"""
ITEM = f"""json_build_object(
    'id', r.id, 'kind', r.kind, 'name', r.name, 'tag', r.tag,
    'place_id', r.place_id, 'floor_id', r.floor_id, 'space_id', r.space_id,
    'position', {_POSITION}, 'path', {_STEPS},
    'health', r.health, 'last_seen', r.last_seen, 'properties', coalesce(r.properties, '{{}}'::jsonb),
    'identifiers', {_IDENTIFIERS},
    'distance', round(r.distance::numeric, 3)
)"""
"""One device as JSON, from a row of ``device_list.LISTING`` (with ``distance``) named ``r``."""


@dataclass(frozen=True)
class Page:
    """A page as JSON text, how many rows the statement found, and the page's last row (id, distance)."""

    items: bytes
    found: int
    last_id: int | None
    last_distance: float | None


def render(session: Session, stmt: Select[Any], size: int, by_distance: bool) -> Page:
    """Run a device list statement (ordered and limited already) and return its first ``size`` rows as JSON.

    The statement may return one row more than ``size``, which says that another page follows;
    that row is counted, not rendered. Rows keep the statement's order: by id, or by distance
    (ties by id) for a nearest-N list.
    """
    found = stmt.subquery("found")
    order = (found.c.distance, found.c.id) if by_distance else (found.c.id,)
    ranked = select(found, func.row_number().over(order_by=order).label("rank")).subquery("r")
    within = f"r.rank <= {int(size)}"
    page: Any = select(
        literal_column(f"coalesce(json_agg({ITEM} ORDER BY r.rank) FILTER (WHERE {within}), '[]')::text")
        .label("items"),
        func.count().label("found"),
        literal_column(f"max(r.id) FILTER (WHERE r.rank = {int(size)})").label("last_id"),
        literal_column(f"max(r.distance) FILTER (WHERE r.rank = {int(size)})").label("last_distance"),
    ).select_from(ranked)
    row: Any = session.execute(page).one()
    return Page(row.items.encode(), int(row.found), row.last_id, row.last_distance)
