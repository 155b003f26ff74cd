"""Statements kept by shape: compiled once, filled with each request's values, never with stale ones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Integer, Select, String, column, false, func, select, table
from sqlalchemy.dialects import postgresql

from twin.store.prepared import Statements, compile_statement, spread, value, values_of

DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
DEVICES = table("devices", column("id", Integer), column("kind", String), column("path", String))


def test_placeholders_are_named_and_build_time_values_kept() -> None:
    stmt = select(DEVICES.c.id).where(
        DEVICES.c.path == func.text2ltree("1.2"),
        DEVICES.c.kind.in_(["camera", "gate"]),
        DEVICES.c.id == value("under", Integer()),
        DEVICES.c.kind.in_(values_of("kind", String(), 2)),
    )
    prepared = compile_statement(stmt, DIALECT)
    assert prepared.needs == {"under", "kind0", "kind1"}
    assert sorted(prepared.fixed.values()) == ["1.2", "camera", "gate"]
    params = prepared.parameters({"under": 7, **spread("kind", ["smoke_detector", "hydrant"])})
    assert params["v__under"] == 7
    assert {params["v__kind0"], params["v__kind1"]} == {"smoke_detector", "hydrant"}
    assert "%(v__under)s" in prepared.sql


def test_a_missing_value_is_refused_and_a_moot_one_left_out() -> None:
    prepared = compile_statement(select(DEVICES.c.id).where(DEVICES.c.id == value("under", Integer())), DIALECT)
    with pytest.raises(KeyError, match="under"):
        prepared.parameters({})
    moot = compile_statement(select(DEVICES.c.id).where(false(), DEVICES.c.id == value("under", Integer())), DIALECT)
    assert moot.parameters({"under": 1}) == {}


def test_a_shape_is_built_once_and_the_oldest_shape_forgotten_first() -> None:
    statements = Statements(size=2)
    builds: list[str] = []

    def build(name: str) -> Select[Any]:
        builds.append(name)
        return select(DEVICES.c.id).where(DEVICES.c.kind == value(name, String()))

    for key in ("a", "a", "b", "a", "c", "a", "b"):
        statements.get(key, lambda key=key: build(key), DIALECT)
    assert builds == ["a", "b", "c", "b"], "b was the least recently used when c came"
    assert statements.built == 4
