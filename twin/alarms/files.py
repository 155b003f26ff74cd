"""A scene's rules as written: ``[[alarm_rule]]`` in scene.toml, ``[[rule]]`` and ``[[place_rule]]`` in alarms.toml.

Read here, in ``twin``, because two readers need them: the rule engine on the live path, which
checks them against the decoder's quantities, and the scene load, which stores them so a server
started without the scene's folder still applies them. Each table keeps its file and line, so a
refusal names where to edit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from twin.alarms.rules import DeviceRule, PlaceRule, RuleError, Vocabulary, device_rule, place_rule
from twin.scenes.toml_lines import LineIndex

ALARMS_FILE = "alarms.toml"
SCENE_FILE = "scene.toml"


def scene_author(scene: str) -> str:
    """Return the ``created_by`` of the rules the load of scene ``scene`` (its folder's name) stored."""
    return f"scene:{scene}"


@dataclass(frozen=True, slots=True)
class RuleTable:
    """One rule's table as written, with its type and where it was declared."""

    type: Literal["device", "place"]
    spec: Mapping[str, Any]
    file: Path
    line_of: Callable[[str], int | None]

    def check(self, vocabulary: Vocabulary) -> DeviceRule | PlaceRule:
        """Return the checked rule; raise RuleError naming the file, the line and the rule."""
        if self.type == "place":
            return place_rule(self.spec, str(self.file), self.line_of)
        return device_rule(self.spec, vocabulary, str(self.file), self.line_of)


def _tables(path: Path, key: str) -> tuple[list[Mapping[str, Any]], LineIndex]:
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RuleError(f"{path}: {key} must be an array of tables ([[{key}]])")
    return value, LineIndex(text)


def _read(path: Path, key: str, kind: Literal["device", "place"]) -> list[RuleTable]:
    if not path.is_file():
        return []
    tables, lines = _tables(path, key)
    return [RuleTable(kind, table, path, _line_of(lines, key, i)) for i, table in enumerate(tables)]


def _line_of(lines: LineIndex, table: str, index: int) -> Callable[[str], int | None]:
    return lambda key: lines.line((table, index, key))


def rule_tables(folder: Path) -> list[RuleTable]:
    """Return every rule table of a scene folder, scene.toml's first."""
    extra = folder / ALARMS_FILE
    return [
        *_read(folder / SCENE_FILE, "alarm_rule", "device"),
        *_read(extra, "rule", "device"),
        *_read(extra, "place_rule", "place"),
    ]


def scene_rules(folder: Path, vocab: Vocabulary) -> tuple[list[DeviceRule], list[PlaceRule]]:
    """Read and check the rules of a scene folder (its scene.toml and alarms.toml)."""
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    for table in rule_tables(folder):
        rule = table.check(vocab)
        if isinstance(rule, PlaceRule):
            places.append(rule)
        else:
            devices.append(rule)
    return devices, places
