"""Find the line of a key in a TOML text, since ``tomllib`` keeps no positions.

An error in a scene names the line a person has to edit. The scanner follows table headers
(``[site]``, ``[[binding]]`` counted per array) and ``key =`` lines, which is all a scene uses;
a key it cannot find is reported on the line of its table, or line 1.
"""

from __future__ import annotations

import re

Key = tuple[str | int, ...]
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


class LineIndex:
    """The lines of the tables and keys of one TOML text."""

    def __init__(self, text: str) -> None:
        """Scan the text once."""
        self.lines: dict[Key, int] = {}
        counts: dict[tuple[str, ...], int] = {}
        table: Key = ()
        depth = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if depth == 0 and (header := _HEADER.match(line)):
                names = _parts(header.group(2))
                if header.group(1) == "[[":
                    index = counts.get(names, -1) + 1
                    counts[names] = index
                    table = (*names, index)
                else:
                    table = names
                self.lines.setdefault(table, number)
                continue
            if depth == 0 and (assign := _ASSIGN.match(line)):
                self.lines.setdefault((*table, *_parts(assign.group(1))), number)
            depth = max(0, depth + line.count("[") - line.count("]"))

    def line(self, key: Key) -> int:
        """Return the line of ``key``, else of its nearest enclosing table, else 1."""
        for end in range(len(key), 0, -1):
            found = self.lines.get(key[:end])
            if found is not None:
                return found
        return 1
