"""SQL fragments that render what every listed node carries, its named path and its identifiers, as JSON.

Shared by the pages PostgreSQL renders itself (``device_page``, ``place_page``): the shape is
the one ``views`` gives in Python, and the tests hold the two to the same answer.
"""

from __future__ import annotations

from twin.graph.paths import LEVELS

_LEVELS = ", ".join(f"'{level}'" for level in LEVELS)


def steps(path: str) -> str:
    """Render the path in column ``path`` as its named steps: ``[{kind, id, name}, …]``, site first."""
    return f"""coalesce((
    SELECT json_agg(json_build_object(
        'kind', (ARRAY[{_LEVELS}])[step.n], 'id', step.id, 'name', coalesce(named.name, '?')
    ) ORDER BY step.n)
    FROM unnest(string_to_array({path}::text, '.')::bigint[]) WITH ORDINALITY AS step(id, n)
    LEFT JOIN places AS named ON named.id = step.id
), '[]')"""


def identifiers(owner: str, owner_id: str) -> str:
    """Render the identifiers of a device or place (``owner`` is ``device_id`` or ``place_id``)."""
    return f"""coalesce((
    SELECT json_agg(json_build_object('namespace', i.namespace, 'value', i.value) ORDER BY i.namespace, i.value)
    FROM identifiers AS i WHERE i.{owner} = {owner_id}
), '[]')"""
