"""A list of places rendered as JSON by PostgreSQL, in the statement that finds it.

The device list's reason (``device_page``) holds for the place lists a screen asks for at each
step down the tree (a building's floors, a floor's rooms, the units an address names): finding
them is a fraction of a millisecond, and a second round trip for the names on their paths and
their identifiers, then a Python dict each, cost more than the question.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, literal_column, select, table, text
from sqlalchemy.orm import Session

from twin.graph.sql_json import identifiers, steps
from twin.store.prepared import Question

ITEM = f"""json_build_object(
    'id', p.id, 'kind', p.kind, 'name', p.name, 'code', p.code, 'parent_id', p.parent_id,
    'path', {steps("p.path")}, 'properties', coalesce(p.properties, '{{}}'::jsonb),
    'identifiers', {identifiers("place_id", "p.id")}
)"""
"""One place as JSON (what every level has, ``PlacePublic``), from its row ``p`` of ``places``."""
_PLACES = table("places").alias("p")


def statement(stmt: Select[Any, Any]) -> Select[Any]:
    """Wrap a statement selecting places' ``id`` and a ``sort`` key: it returns them as a JSON array and their count.

    The list is ordered by ``sort``, ties by id.
    """
    found = stmt.subquery("k")
    page: Any = select(
        literal_column(f"coalesce(json_agg({ITEM} ORDER BY k.sort, k.id), '[]')::text"),
        literal_column("count(*)"),
    ).select_from(found.join(_PLACES, text("p.id = k.id")))
    return page  # type: ignore[no-any-return]


def render(session: Session, stmt: Select[Any, Any]) -> tuple[bytes, int]:
    """Run a :func:`statement` built at this request (lists asked rarely enough not to keep theirs)."""
    return read(session.connection().execute(statement(stmt)).one())


def shaped(key: Hashable, build: Callable[[], Select[Any, Any]], values: Mapping[str, Any]) -> Question:
    """Ask the :func:`statement` of a shape, built once (``twin.store.prepared``), with this request's values."""
    return Question(key, lambda: statement(build()), values)


def read(row: Sequence[Any]) -> tuple[bytes, int]:
    """Return the JSON array and the count a :func:`statement` answered with."""
    items, count = row
    return items.encode(), int(count)
