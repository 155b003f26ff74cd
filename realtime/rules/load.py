"""Where rules come from: a scene's files and the rules admins declared through the API.

A scene keeps the simple rules in ``scene.toml`` (``[[alarm_rule]]``, whose keys the scene reader
already checks) and the rest — hysteresis, trends, place rules — in ``alarms.toml`` beside it
(``[[rule]]`` and ``[[place_rule]]``). Everything is checked together against the quantities of
``realtime.quantities`` and the tags of the devices in the store: one mistake refuses the whole
set, naming the file, the line and the rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from realtime.quantities import QUANTITIES, Quantity, UnitError, ValueKind
from twin.alarms.rules import (
    DeviceRule,
    PlaceRule,
    QuantityInfo,
    RuleError,
    RuleSet,
    Vocabulary,
    device_rule,
    place_rule,
    rule_set,
)
from twin.scenes.toml_lines import LineIndex
from twin.store.alarms import AlarmRuleRow
from twin.store.models import DeviceRow

ALARMS_FILE = "alarms.toml"


def _info(q: Quantity) -> QuantityInfo:
    def convert(value: float, unit: str) -> float:
        try:
            return q.to_canonical(value, unit)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return QuantityInfo(q.name, q.unit, q.kind is ValueKind.NUMBER, q.low, q.high, convert)


def vocabulary(device_tags: set[str] | None = None) -> Vocabulary:
    """Return what rules may name: every quantity the decoder knows, and the given device tags."""
    return Vocabulary({name: _info(q) for name, q in QUANTITIES.items()}, device_tags)


def device_tags(session: Session) -> dict[str, int]:
    """Return the tags of the devices in service, with their ids."""
    rows = session.execute(select(DeviceRow.tag, DeviceRow.id).where(DeviceRow.retired_at.is_(None)))
    return {tag: device_id for tag, device_id in rows if tag}


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


def scene_rules(folder: Path, vocab: Vocabulary) -> tuple[list[DeviceRule], list[PlaceRule]]:
    """Read and check the rules of a scene folder (its scene.toml and alarms.toml)."""
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    scene = folder / "scene.toml"
    if scene.is_file():
        tables, lines = _tables(scene, "alarm_rule")
        for i, table in enumerate(tables):
            devices.append(device_rule(table, vocab, str(scene), _line_of(lines, "alarm_rule", i)))
    extra = folder / ALARMS_FILE
    if extra.is_file():
        tables, lines = _tables(extra, "rule")
        for i, table in enumerate(tables):
            devices.append(device_rule(table, vocab, str(extra), _line_of(lines, "rule", i)))
        tables, lines = _tables(extra, "place_rule")
        for i, table in enumerate(tables):
            places.append(place_rule(table, str(extra), _line_of(lines, "place_rule", i)))
    return devices, places


def _line_of(lines: LineIndex, table: str, index: int) -> Any:
    return lambda key: lines.line((table, index, key))


def stored_rules(session: Session, vocab: Vocabulary) -> tuple[list[DeviceRule], list[PlaceRule]]:
    """Read the rules declared through the API (checked again: the vocabulary may have changed)."""
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    for row in session.scalars(select(AlarmRuleRow).order_by(AlarmRuleRow.id)):
        spec = dict(row.spec)
        if spec.pop("type", "device") == "place":
            places.append(place_rule(spec, "api"))
        else:
            devices.append(device_rule(spec, vocab, "api"))
    return devices, places


def load_rules(session: Session, scenes: list[Path]) -> tuple[RuleSet, dict[str, int]]:
    """Load and check every rule in force: the scenes' and the API's, with the device tags they name."""
    tags = device_tags(session)
    vocab = vocabulary(set(tags))
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    for folder in scenes:
        d, p = scene_rules(folder, vocab)
        devices += d
        places += p
    d, p = stored_rules(session, vocab)
    return rule_set([*devices, *d], [*places, *p]), tags
