"""Where rules come from: a scene's files and the rules admins declared through the API.

A scene keeps the simple rules in ``scene.toml`` (``[[alarm_rule]]``, whose keys the scene reader
already checks) and the rest — hysteresis, trends, place rules — in ``alarms.toml`` beside it
(``[[rule]]`` and ``[[place_rule]]``). Everything is checked together against the quantities of
``realtime.quantities`` and the tags of the devices in the store: one mistake refuses the whole
set, naming the file, the line and the rule.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from realtime.quantities import QUANTITIES, Quantity, UnitError, ValueKind
from twin.alarms.files import scene_author, scene_rules
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
from twin.store.alarms import AlarmRuleRow
from twin.store.models import DeviceRow


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


def stored_rules(
    session: Session, vocab: Vocabulary, skip: tuple[str, ...] = ()
) -> tuple[list[DeviceRule], list[PlaceRule]]:
    """Read the rules in the store (checked again: the vocabulary may have changed).

    Those are the API's and the ones scene loads stored; ``skip`` names the authors whose rules
    are read from their files instead (a scene the server is configured with).
    """
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    query = select(AlarmRuleRow).where(AlarmRuleRow.created_by.not_in(skip)) if skip else select(AlarmRuleRow)
    for row in session.scalars(query.order_by(AlarmRuleRow.id)):
        spec = dict(row.spec)
        if spec.pop("type", "device") == "place":
            places.append(place_rule(spec, "api"))
        else:
            devices.append(device_rule(spec, vocab, "api"))
    return devices, places


def load_rules(session: Session, scenes: list[Path]) -> tuple[RuleSet, dict[str, int]]:
    """Load and check every rule in force: the scenes' and the store's, with the device tags they name.

    A scene given here is read from its folder, so an edited file counts without loading the
    scene again; its copy in the store (from ``twin scene load``) is then left out.
    """
    tags = device_tags(session)
    vocab = vocabulary(set(tags))
    devices: list[DeviceRule] = []
    places: list[PlaceRule] = []
    for folder in scenes:
        if not (folder / "scene.toml").is_file():
            raise RuleError(f"{folder}: no scene.toml here (a folder of TWIN_SCENES)")
        d, p = scene_rules(folder, vocab)
        devices += d
        places += p
    d, p = stored_rules(session, vocab, tuple(scene_author(folder.resolve().name) for folder in scenes))
    return rule_set([*devices, *d], [*places, *p]), tags
