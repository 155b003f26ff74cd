"""The PostgreSQL ``ltree`` type, which stores the hierarchy as a materialised path of ids.

A place's path is the ids from its site down to itself (``1.5.42``): a subtree is ``path <@ '1.5'``
and the ancestors are ``path @> …``, each one indexed GiST query, never Python recursion.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.types import UserDefinedType


class LTree(UserDefinedType[str]):
    """A materialised path; values are dot-joined integer ids."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        """Name the column type in DDL."""
        return "LTREE"


def path_of(ids: list[int]) -> str:
    """Spell a path from its ids, site first."""
    return ".".join(str(i) for i in ids)


def ids_of(path: str) -> list[int]:
    """Read the ids of a path, site first."""
    return [int(part) for part in path.split(".") if part]
