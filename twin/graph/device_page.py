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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, literal_column, select, text

from twin.graph.sql_json import identifiers, steps

_POSITION = """CASE WHEN d.position_local IS NULL THEN NULL ELSE json_build_array(
    round(ST_X(d.position_local)::numeric, 3), round(ST_Y(d.position_local)::numeric, 3),
    round(coalesce(ST_Z(d.position_local), 0)::numeric, 3)
) END"""
ITEM = f"""json_build_object(
    'id', d.id, 'kind', d.kind, 'name', d.name, 'tag', d.tag,
    'place_id', d.place_id, 'floor_id', d.floor_id, 'space_id', d.space_id,
    'position', {_POSITION}, 'path', named.steps,
    'health', d.health, 'last_seen', d.last_seen, 'properties', coalesce(d.properties, '{{}}'::jsonb),
    'identifiers', {identifiers('device_id', 'd.id')},
    'distance', round(r.distance::numeric, 3)
)"""
"""One device as JSON, from its row ``d`` of ``devices``, its ranked row ``r`` and its path's ``named`` steps."""
_FROM = text("r JOIN devices AS d ON d.id = r.id LEFT JOIN named ON named.path = d.path")
"""The page's rows with their devices, and the named steps of their paths."""
_NAMED = (
    select(literal_column("q.path"), literal_column(steps("q.path")).label("steps"))
    .select_from(text("(SELECT DISTINCT devices.path FROM r JOIN devices ON devices.id = r.id) AS q"))
    .cte("named")
    .prefix_with("MATERIALIZED")
)
"""The named steps of each path the page holds, once a path, and computed once.

Devices share places (a unit's detector, meters and sensors), so naming each distinct path
once instead of once a row halved a radius page's rendering (100 devices in 30-odd spaces).
MATERIALIZED, because the planner, expecting one row from the ranked page, otherwise joined it
as a subquery run again for every row of the page: 60 ms for a 30 m circle of 101 devices.
"""


@dataclass(frozen=True)
class Page:
    """A page as JSON text, how many rows the statement found, and the page's last row (id, distance)."""

    items: bytes
    found: int
    last_id: int | None
    last_distance: float | None


def statement(stmt: Select[Any], size: int, by_distance: bool) -> Select[Any]:
    """Wrap a device list statement so that it returns its first ``size`` rows as JSON (see :func:`read`).

    The statement selects ``id`` and ``distance`` (NULL when no point was given), ordered and
    limited already; it may return one row more than ``size``, which says that another page
    follows, and that row is counted, not rendered. Rows keep the statement's order: by id, or
    by distance, ties by id.

    Only the page's rows are then read in full and rendered. A radius list filters thousands
    (a 30 m circle holds a tower's 5,000 devices at 100,000) to keep a hundred, and reading
    every column of every candidate cost a third of its time.

    The wrapper is spelled in literal SQL around the statement: SQLAlchemy's column proxies and
    window constructs cost more to build than PostgreSQL takes to run them.
    """
    order = "k.distance, k.id" if by_distance else "k.id"
    ranked = (
        select(
            literal_column("k.id"),
            literal_column("k.distance"),
            literal_column(f"row_number() OVER (ORDER BY {order})").label("rank"),
        )
        .select_from(stmt.subquery("k"))
        .cte("r")
    )
    within = f"r.rank <= {int(size)}"
    last = f"FILTER (WHERE r.rank = {int(size)})"
    page: Select[Any] = (
        select(  # type: ignore[assignment]
            literal_column(f"coalesce(json_agg({ITEM} ORDER BY r.rank) FILTER (WHERE {within}), '[]')::text"),
            literal_column("count(*)"),
            literal_column(f"max(r.id) {last}"),
            literal_column(f"max(r.distance) {last}"),
        )
        .select_from(_FROM)
        .add_cte(ranked, _NAMED)
    )
    return page


def read(row: Sequence[Any]) -> Page:
    """Return the page a :func:`statement` answered with."""
    items, count, last_id, last_distance = row
    return Page(items.encode(), int(count), last_id, last_distance)
