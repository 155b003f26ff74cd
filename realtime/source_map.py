"""Line numbers for keys of a TOML document, which tomllib does not keep.

tomllib reports the line of a syntax error but forgets where each key stood, so a semantic error
("no such quantity") would point nowhere. This map re-reads the text, follows table headers
(``[a]``, ``[[a.b]]`` with their running indices) and key lines, and answers "which line holds
``message[2].reading[0].quantity``" — or the nearest enclosing line when the key is inside an
inline table or an array spanning lines.
"""

from __future__ import annotations

import re

Key = tuple[str | int, ...]

_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")
_SPLIT = re.compile(_PART)


def _parts(dotted: str) -> list[str]:
    return [p[1:-1] if p[0] in "\"'" else p for p in _SPLIT.findall(dotted)]


class SourceMap:
    """Where each table and key of one TOML text starts (1-based lines)."""

    def __init__(self, text: str) -> None:
        """Index the headers and key lines of ``text``."""
        self._lines: dict[Key, int] = {}
        latest: dict[tuple[str, ...], Key] = {}
        counts: dict[Key, int] = {}
        table: Key = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _ARRAY_HEADER.match(line):
                names = _parts(header.group(1))
                parent = self._resolve(names[:-1], latest)
                slot = (*parent, names[-1])
                index = counts.get(slot, 0)
                counts[slot] = index + 1
                table = (*slot, index)
                latest[tuple(names)] = table
            elif header := _TABLE_HEADER.match(line):
                names = _parts(header.group(1))
                table = self._resolve(names, latest)
                latest[tuple(names)] = table
            elif key := _KEY_LINE.match(line):
                self._lines.setdefault((*table, *_parts(key.group(1))), number)
                continue
            else:
                continue
            self._lines.setdefault(table, number)

    @staticmethod
    def _resolve(names: list[str], latest: dict[tuple[str, ...], Key]) -> Key:
        resolved: Key = ()
        for depth in range(1, len(names) + 1):
            resolved = latest.get(tuple(names[:depth]), (*resolved, names[depth - 1]))
        return resolved

    def line(self, key: Key) -> int | None:
        """Return the line of ``key``, or of its nearest enclosing key or table that has one."""
        for end in range(len(key), 0, -1):
            found = self._lines.get(key[:end])
            if found is not None:
                return found
        return None
