"""A list of places rendered as JSON by PostgreSQL, in the statement that finds it.

The device list's reason (``device_page``) holds for the place lists a screen asks for at each
step down the tree (a building's floors, a floor's rooms, the units an address names): finding
them is a fraction of a millisecond, and a second round trip for the names on their paths and
their identifiers, then a Python dict each, cost more than the question.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal_column, select, table, text
from sqlalchemy.orm import Session

from twin.graph.sql_json import identifiers, steps

ITEM = f"""json_build_object(
    'id', p.id, 'kind', p.kind, 'name', p.name, 'code', p.code, 'parent_id', p.parent_id,
    'path', {steps('p.path')}, 'properties', coalesce(p.properties, '{{}}'::jsonb),
    'identifiers', {identifiers('place_id', 'p.id')}
)"""
"""One place as JSON (what every level has, ``PlacePublic``), from its row ``p`` of ``places``."""
_PLACES = table("places").alias("p")


def render(session: Session, stmt: Select[Any, Any]) -> tuple[bytes, int]:
    """Run a statement selecting places' ``id`` and a ``sort`` key; return them as a JSON array and their count.

    The list is ordered by ``sort``, ties by id.
    """
    found = stmt.subquery("k")
    page: Any = select(
        literal_column(f"coalesce(json_agg({ITEM} ORDER BY k.sort, k.id), '[]')::text"),
        literal_column("count(*)"),
    ).select_from(found.join(_PLACES, text("p.id = k.id")))
    items, count = session.connection().execute(page).one()
    return items.encode(), int(count)
