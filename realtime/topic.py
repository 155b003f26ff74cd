"""Topic patterns with named wildcards, and MQTT filter matching.

A profile writes ``tele/{device}/SENSOR``: a named wildcard matches one topic level, like MQTT's
``+``, and captures it, so that the topic itself can name the device (or carry a value). ``+``
matches a level without capturing it and ``#`` (last) matches the remaining levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CAPTURE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class PatternError(ValueError):
    """A topic pattern that cannot be matched; the message says which level is wrong."""


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A compiled pattern: literal levels, named captures, ``+`` and a trailing ``#``."""

    text: str
    levels: tuple[str | None, ...]
    """A literal level, or None where any level matches."""
    captures: tuple[tuple[int, str], ...]
    """(level index, name) of every named wildcard."""
    tail: bool
    """True when the pattern ends with ``#``."""

    @classmethod
    def parse(cls, text: str) -> TopicPattern:
        """Compile ``text``; raise PatternError naming the offending level."""
        if not text:
            raise PatternError("the topic pattern is empty")
        parts = text.split("/")
        levels: list[str | None] = []
        captures: list[tuple[int, str]] = []
        tail = False
        for index, part in enumerate(parts):
            where = f"level {index + 1} ({part!r}) of {text!r}"
            if part == "#":
                if index != len(parts) - 1:
                    raise PatternError(f"'#' must be the last level, but {where} is followed by more")
                tail = True
                continue
            if part == "+":
                levels.append(None)
                continue
            match = _CAPTURE.match(part)
            if match:
                name = match.group(1)
                if any(name == seen for _, seen in captures):
                    raise PatternError(f"the wildcard {{{name}}} appears twice in {text!r}")
                captures.append((index, name))
                levels.append(None)
                continue
            if any(ch in part for ch in "{}+#"):
                raise PatternError(
                    f"{where} mixes text with a wildcard;"
                    " a wildcard must fill a whole level, like 'a/{device}/b'"
                )
            levels.append(part)
        return cls(text, tuple(levels), tuple(captures), tail)

    @property
    def first_literal(self) -> str | None:
        """Return the first level when it is literal: the key profiles are indexed by."""
        return self.levels[0] if self.levels else None

    def names(self) -> frozenset[str]:
        """Return the names of the captured levels."""
        return frozenset(name for _, name in self.captures)

    def subscription(self) -> str:
        """Return the MQTT subscription filter that receives every topic this pattern matches."""
        filt = "/".join("+" if level is None else level for level in self.levels)
        if self.tail:
            return f"{filt}/#" if filt else "#"
        return filt

    def match(self, levels: list[str]) -> dict[str, str] | None:
        """Return the captured levels when the split topic matches, else None."""
        n = len(self.levels)
        if len(levels) < n or (not self.tail and len(levels) != n):
            return None
        for want, got in zip(self.levels, levels, strict=False):
            if want is not None and want != got:
                return None
        return {name: levels[index] for index, name in self.captures}


def filter_matches(topic_filter: str, topic: str) -> bool:
    """Tell whether an MQTT subscription filter (``+``, ``#``, ``$share/…``) matches a topic."""
    if topic_filter.startswith("$share/"):
        topic_filter = topic_filter.split("/", 2)[2] if topic_filter.count("/") >= 2 else ""
    want = topic_filter.split("/")
    got = topic.split("/")
    if topic.startswith("$") and want[0] in ("+", "#"):
        return False
    for index, level in enumerate(want):
        if level == "#":
            return True
        if index >= len(got) or (level != "+" and level != got[index]):
            return False
    return len(want) == len(got)
