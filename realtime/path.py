"""Paths into decoded JSON: ``ENERGY.Total``, ``"Temp.Outdoor".value``, ``data.0.v``.

Vendors put dots and spaces in their keys (``"PM2.5"``, ``"Total Energy"``), so a key may be
quoted with double or single quotes; a bare segment of digits indexes a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MISSING: Any = object()


class PathError(ValueError):
    """A path that cannot be parsed; the message gives the column."""


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed path; ``get`` walks a decoded JSON value along it."""

    text: str
    keys: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """Parse ``text``; raise PathError saying where it is malformed."""
        keys: list[str] = []
        i, n = 0, len(text)
        if n == 0:
            raise PathError("the path is empty")
        while True:
            if i < n and text[i] in "\"'":
                quote = text[i]
                j = i + 1
                key: list[str] = []
                while j < n and text[j] != quote:
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    key.append(text[j])
                    j += 1
                if j >= n:
                    raise PathError(f"the quote opened at column {i + 1} of {text!r} is never closed")
                keys.append("".join(key))
                i = j + 1
            else:
                j = i
                while j < n and text[j] != ".":
                    if text[j] in "\"' \t":
                        raise PathError(
                            f"column {j + 1} of {text!r}: a key with quotes or spaces must be quoted,"
                            ' like "Total Energy"'
                        )
                    j += 1
                if j == i:
                    raise PathError(f"column {i + 1} of {text!r}: empty key (two dots, or a dot at an end)")
                keys.append(text[i:j])
                i = j
            if i == n:
                return cls(text, tuple(keys))
            if text[i] != ".":
                raise PathError(f"column {i + 1} of {text!r}: expected '.' after a quoted key")
            i += 1
            if i == n:
                raise PathError(f"{text!r} ends with a dot")

    def get(self, value: Any) -> Any:
        """Return the value at this path, or MISSING when any step is absent."""
        if len(self.keys) == 1 and isinstance(value, dict):
            return value.get(self.keys[0], _MISSING)  # most paths are one key: skip the loop
        for key in self.keys:
            if isinstance(value, dict):
                value = value.get(key, _MISSING)
                if value is _MISSING:
                    return _MISSING
            elif isinstance(value, list) and key.isdigit():
                index = int(key)
                if index >= len(value):
                    return _MISSING
                value = value[index]
            else:
                return _MISSING
        return value


MISSING: Any = _MISSING
"""What ``FieldPath.get`` returns for an absent path (JSON null is a present None)."""
