"""A column mapping declared with an import: ``type=消防栓:hydrant; 类别=出入口:gate; id=设施编号``.

Every source names its columns its own way, so an import may declare rules that take precedence
over the default ones (OSM tags, a ``type`` column in en/zh), and which columns carry a feature's
id, name, height and levels. The declaration is one line of text — the same from the CLI
(``--map`` repeated) and from a form field of ``POST /api/imports`` — checked here, with the rule
that is wrong named in the error.

    rule     := COLUMN "=" VALUE ":" KIND         KIND: a feature kind (road, green_area, …) or a device kind
    columns  := ("id" | "name" | "height" | "levels") "=" COLUMN[,COLUMN…]
"""

from __future__ import annotations

import dataclasses

from gis.errors import GisError
from gis.kinds import DEFAULT_MAPPING, FeatureKind, KindMapping, KindRule
from twin.catalogue import DeviceKind

_COLUMN_FIELDS = {"id": "id_columns", "name": "name_columns", "height": "height_columns", "levels": "levels_columns"}


def declared_mapping(text: str | None, base: KindMapping = DEFAULT_MAPPING) -> KindMapping:
    """Return ``base`` with the declared rules first and the declared columns in place of its own."""
    if not text or not text.strip():
        return base
    rules: list[KindRule] = []
    columns: dict[str, tuple[str, ...]] = {}
    for n, part in enumerate((p.strip() for p in text.replace("\n", ";").split(";")), start=1):
        if not part:
            continue
        column, eq, rest = part.partition("=")
        column = column.strip()
        if not eq or not column or not rest.strip():
            raise GisError(f"mapping rule {n} {part!r}: write COLUMN=VALUE:KIND, or id=COLUMN")
        if column.lower() in _COLUMN_FIELDS and ":" not in rest:
            columns[_COLUMN_FIELDS[column.lower()]] = tuple(c.strip() for c in rest.split(",") if c.strip())
            continue
        value, colon, kind = rest.rpartition(":")
        if not colon or not value.strip():
            raise GisError(f"mapping rule {n} {part!r}: the value needs a kind after a colon (=消防栓:hydrant)")
        rules.append(_rule(n, part, column, value.strip(), kind.strip()))
    return dataclasses.replace(base, rules=(*rules, *base.rules), **columns)


def _rule(n: int, part: str, column: str, value: str, kind: str) -> KindRule:
    if kind in {k.value for k in FeatureKind}:
        return KindRule(column, value, FeatureKind(kind))
    if kind in {k.value for k in DeviceKind}:
        return KindRule(column, value, FeatureKind.DEVICE, DeviceKind(kind))
    features = ", ".join(k.value for k in FeatureKind if k is not FeatureKind.DEVICE)
    raise GisError(
        f"mapping rule {n} {part!r}: unknown kind {kind!r}; a feature kind ({features}) or a device kind (hydrant, …)"
    )
