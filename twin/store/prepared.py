"""Statements built and compiled once per shape, then sent with only their values.

The graph's hot lists run in about a millisecond of PostgreSQL at 100,000 devices, and building
their SQLAlchemy statement at every request, computing its cache key and processing its
parameters cost twice that (2.4 ms of a 5.6 ms floor page, measured through the API). Their SQL
text depends only on their *shape*: which filters are present, the page size, the caller's
grants. So a list names its shape, builds its statement only when the shape is new, with a named
``bindparam`` (no value) for each value a request brings, and each request sends the compiled
text with its values: no statement objects, no cache key, no compiler.

Values bound at build time (a grant's path inside the scope filter) belong to the shape and are
kept with the text; that is why the caller's grants are part of every key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlalchemy import BindParameter, Dialect, bindparam
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

_PREFIX = "v__"
"""Names of the placeholders a request fills; SQLAlchemy's own names are a column's name and a number."""


def value(name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    """Return the placeholder for a value each request brings (``name`` in :meth:`Prepared.parameters`)."""
    return bindparam(_PREFIX + name, None, type_=type_)


def values_of(name: str, type_: TypeEngine[Any], count: int) -> list[BindParameter[Any]]:
    """Return placeholders for a list of ``count`` values, to be filled by :func:`spread`.

    One placeholder an item, not an array: PostgreSQL's generic plan for a prepared
    ``kind = ANY($1)`` cannot tell how many kinds the array holds, and walked the primary key
    through every device (30 ms for a floor's smoke detectors at 100,000) where ``kind IN ($1)``
    finds them in one. The count is part of the shape.
    """
    return [value(f"{name}{i}", type_) for i in range(count)]


def spread(name: str, items: Sequence[Any]) -> dict[str, Any]:
    """Return the values of a list for the placeholders :func:`values_of` made."""
    return {f"{name}{i}": item for i, item in enumerate(items)}


@dataclass(frozen=True)
class Prepared:
    """A statement's text for the driver, the values fixed when it was built, and the names it still needs."""

    sql: str
    fixed: Mapping[str, Any]
    needs: frozenset[str]
    processors: Mapping[str, Callable[[Any], Any]]

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the driver's parameters for these values; a value it needs and is not given is a programming error.

        A value given and not needed is left out: SQLAlchemy drops the conditions a ``false()``
        makes moot (a caller with no grants), placeholders and all.
        """
        missing = self.needs - values.keys()
        if missing:
            raise KeyError(f"statement needs {sorted(missing)}, not given")
        params = dict(self.fixed)
        for name in self.needs:
            key, given = _PREFIX + name, values[name]
            process = self.processors.get(key)
            params[key] = given if process is None or given is None else process(given)
        return params


def compile_statement(stmt: ClauseElement, dialect: Dialect) -> Prepared:
    """Compile a statement once: lists bound at build time rendered as their values, placeholders named."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    processors: dict[str, Callable[[Any], Any]] = {}
    fixed: dict[str, Any] = {}
    needs = set()
    for name, given in compiled.params.items():
        bind = compiled.binds[name if name in compiled.binds else name.rsplit("_", 1)[0]]  # or an expanded item
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name.startswith(_PREFIX):
            needs.add(name[len(_PREFIX) :])
            if process is not None:
                processors[name] = process
        else:
            fixed[name] = given if process is None or given is None else process(given)
    return Prepared(compiled.string, fixed, frozenset(needs), processors)


class Statements:
    """A bounded cache of prepared statements by shape (a hashable key), shared by the server's threads."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._cache: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._lock = Lock()
        self.built = 0

    def get(self, key: Hashable, build: Callable[[], ClauseElement], dialect: Dialect) -> Prepared:
        """Return the statement of a shape, building and compiling it the first time the shape is seen."""
        with self._lock:
            prepared = self._cache.get(key)
            if prepared is not None:
                self._cache.move_to_end(key)
                return prepared
        prepared = compile_statement(build(), dialect)
        with self._lock:
            self.built += 1
            self._cache[key] = prepared
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return prepared


STATEMENTS = Statements()
"""The process's statements: their text depends only on the code and the shape, never on the database."""


@dataclass(frozen=True)
class Question:
    """One request's statement: its shape's key, how to build the shape's statement, and this request's values.

    Built from the caller's principal alone, so that it is asked and run on the server's
    event loop's reader (``twin.store.reader``) without a session or a thread.
    """

    key: Hashable
    build: Callable[[], ClauseElement]
    values: Mapping[str, Any]

    def prepared(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        """Return the driver's text and parameters, building the shape's statement if it is new."""
        prepared = STATEMENTS.get(self.key, self.build, dialect)
        return prepared.sql, prepared.parameters(self.values)
