"""Alarm rules as data: what each kind of rule says, checked against the vocabulary before use.

A rule is refused at load — with its name and, from a file, its line — when it names a quantity
or a device that does not exist, when its threshold cannot be in the quantity's unit (0.6 for a
pressure in kPa, a temperature in MPa), or when a place rule refers to itself, directly or through
a cycle of place rules. A rule that loads is one the engine can evaluate; nothing is discovered
wrong at three in the morning.

Device rules watch one quantity (or the health) of every device of a kind, or of one device by
its tag. Place rules combine the alarms of other rules inside one space, floor or building within
a time window ("two smoke detectors on one floor within 60 s → confirmed fire").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from twin.alarms.severity import AlarmSeverity
from twin.catalogue import DeviceKind

Condition = Literal[
    "above", "below", "equals", "rate_above", "rate_below", "stuck", "offline", "trend_above", "trend_below"
]
CONDITIONS: tuple[str, ...] = Condition.__args__  # type: ignore[attr-defined]
Scope = Literal["space", "floor", "building"]
SCOPES: tuple[str, ...] = Scope.__args__  # type: ignore[attr-defined]
ANY_KIND = "*"
"""``kind = "*"``: every kind that has no more specific rule of the same condition."""


class RuleError(ValueError):
    """A rule that cannot be used, named with where it was declared."""


@dataclass(frozen=True, slots=True)
class QuantityInfo:
    """What a rule needs to know of a quantity: its canonical unit, range and converter."""

    name: str
    unit: str
    numeric: bool
    low: float
    high: float
    to_canonical: Callable[[float, str], float]
    """Convert from a unit to the canonical one; raise ValueError for a unit it does not know."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The quantities rules may name, and the device tags (None when devices are not checked)."""

    quantities: Mapping[str, QuantityInfo]
    device_tags: Collection[str] | None = None


@dataclass(frozen=True, slots=True)
class DeviceRule:
    """A condition on one quantity (or the health) of devices of a kind, or of one device."""

    name: str
    condition: Condition
    severity: AlarmSeverity
    kind: str | None = None
    device: str | None = None
    quantity: str | None = None
    threshold: float | bool | str | None = None
    clear_at: float | None = None
    """Hysteresis: an ``above`` alarm clears only below this (a ``below`` one only above it)."""
    worse_at: float | None = None
    """Crossing this too raises the severity one level while the alarm is open."""
    for_s: float = 0.0
    """Hold time: the condition must last this long before the alarm is raised."""
    count: int = 1
    """Repeat count: the condition must be true on this many consecutive judgements (and ``for_s``)."""
    every_s: float = 0.0
    """Evaluation period: judge the mean of each period's readings once, not every reading (0: each)."""
    window_s: float = 60.0
    stuck_h: float = 24.0
    horizon_h: float = 24.0
    min_history_s: float = 0.0
    """A trend predicts only once its fit spans this much history (0: a quarter of the window)."""
    confidence: float = 0.95
    """A trend raises only when the slope's one-sided lower bound at this confidence crosses in time."""
    flap_per_h: int = 6
    """More raises than this within an hour: the alarm is held open as flapping (0: never held)."""
    hours: tuple[int, int] | None = None
    """Active only between these local hours (start, end), e.g. (0, 5) for night-time flow."""
    escalate_after_min: float = 5.0
    line: int | None = None


@dataclass(frozen=True, slots=True)
class PlaceRule:
    """Alarms of other rules combined in one place within a time window."""

    name: str
    members: tuple[str, ...]
    severity: AlarmSeverity
    scope: Scope = "space"
    count: int = 2
    """How many distinct subjects must be alarming together."""
    require_all: bool = False
    """Each member rule must be among them (a leak sensor *and* a night flow)."""
    within_s: float = 60.0
    escalate_after_min: float = 5.0
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every rule in force, checked together (names unique, place rules acyclic)."""

    devices: tuple[DeviceRule, ...] = ()
    places: tuple[PlaceRule, ...] = ()
    by_name: dict[str, DeviceRule | PlaceRule] = field(default_factory=dict)

    def place_rules_of(self, member: str) -> list[PlaceRule]:
        """Return the place rules that a given rule's alarms feed."""
        return [p for p in self.places if member in p.members]


_DEVICE_KEYS = (
    "name", "kind", "device", "quantity", "condition", "threshold", "unit", "clear_at", "worse_at", "severity",
    "for_s", "count", "every_s", "window_s", "stuck_h", "horizon_h", "min_history_s", "confidence", "flap_per_h",
    "hours", "escalate_after_min",
)  # fmt: skip
NUMERIC = ("above", "below", "rate_above", "rate_below", "trend_above", "trend_below")
"""The conditions judged on a number, so also on a period's mean (``every_s``)."""
TRENDS = ("trend_above", "trend_below")
TREND_FLOOR_S = 600.0
"""The shortest window a trend is fitted over: fewer minutes make a slope of noise."""
MIN_SAMPLES = 5
"""The fewest samples a trend is fitted on (and so the fewest periods its window must hold)."""
_PLACE_KEYS = ("name", "members", "scope", "count", "all", "within_s", "severity", "escalate_after_min")


class _Checker:
    """Reads one rule table, failing with the rule's name and the line of the offending key."""

    def __init__(self, data: Mapping[str, Any], where: str, line_of: Callable[[str], int | None]) -> None:
        self.data, self.where, self.line_of = data, where, line_of
        self.name = str(data.get("name", "?"))

    def fail(self, key: str, message: str) -> RuleError:
        line = self.line_of(key)
        at = f"{self.where}:{line}: " if line is not None else (f"{self.where}: " if self.where else "")
        return RuleError(f"{at}rule {self.name!r}: {key}: {message}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "is required" if value is None else f"{value!r} is not a word")
        return value.strip()

    def number(self, key: str, default: float, positive: bool = True) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"{value!r} is not a number")
        if positive and value < 0:
            raise self.fail(key, f"{value} is negative")
        return float(value)

    def integer(self, key: str, default: int, least: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"{value!r} is not a whole number")
        if value < least:
            raise self.fail(key, f"must be at least {least}")
        return value

    def only(self, key: str, condition: str, allowed: tuple[str, ...]) -> None:
        if key in self.data and condition not in allowed:
            raise self.fail(key, f"applies to {', '.join(allowed)} rules only, not {condition}")

    def severity(self) -> AlarmSeverity:
        value = self.data.get("severity", "warning")
        try:
            return AlarmSeverity(value)
        except ValueError:
            raise self.fail("severity", f"{value!r} is not one of {', '.join(AlarmSeverity)}") from None

    def keys(self, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], f"unknown key (known: {', '.join(allowed)})")


def device_rule(
    data: Mapping[str, Any],
    vocabulary: Vocabulary,
    where: str = "",
    line_of: Callable[[str], int | None] = lambda k: None,
) -> DeviceRule:
    """Check one device rule's table and return it, its thresholds in the quantity's canonical unit."""
    c = _Checker(data, where, line_of)
    c.keys(_DEVICE_KEYS)
    name = c.text("name")
    condition = c.text("condition")
    if condition not in CONDITIONS:
        raise c.fail("condition", f"{condition!r} is not one of {', '.join(CONDITIONS)}")
    kind, device = data.get("kind"), data.get("device")
    if (kind is None) == (device is None):
        raise c.fail("kind", "give exactly one of kind and device")
    if kind is not None and kind != ANY_KIND:
        try:
            DeviceKind(kind)
        except ValueError:
            raise c.fail("kind", f"unknown device kind {kind!r} (see twin.catalogue.DeviceKind)") from None
    if device is not None:
        device = c.text("device")
        if vocabulary.device_tags is not None and device not in vocabulary.device_tags:
            raise c.fail("device", f"no device is tagged {device!r}")
    quantity: QuantityInfo | None = None
    if condition != "offline":
        qname = c.text("quantity")
        quantity = vocabulary.quantities.get(qname)
        if quantity is None:
            raise c.fail("quantity", f"unknown quantity {qname!r} (see realtime.quantities)")
    threshold = _threshold(c, condition, quantity)
    window_s = c.number("window_s", 60) or 60
    return DeviceRule(
        name=name,
        condition=condition,  # type: ignore[arg-type]
        severity=c.severity(),
        kind=kind,
        device=device,
        quantity=quantity.name if quantity else None,
        threshold=threshold,
        clear_at=_level(c, "clear_at", quantity, condition, threshold),
        worse_at=_level(c, "worse_at", quantity, condition, threshold),
        for_s=c.number("for_s", 0),
        window_s=window_s,
        stuck_h=c.number("stuck_h", 24) or 24,
        horizon_h=c.number("horizon_h", 24) or 24,
        **_noise(c, condition, window_s),
        hours=_hours(c),
        escalate_after_min=c.number("escalate_after_min", 5),
        line=line_of("name"),
    )


def _canonical(c: _Checker, key: str, value: object, quantity: QuantityInfo) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise c.fail(key, f"{value!r} is not a number of {quantity.name}")
    unit = c.data.get("unit", quantity.unit)
    try:
        canonical = quantity.to_canonical(float(value), str(unit))
    except ValueError as exc:
        raise c.fail("unit", str(exc)) from None
    if not quantity.low <= canonical <= quantity.high:
        raise c.fail(
            key,
            f"{value} {unit} is {canonical:g} {quantity.unit}, outside what a {quantity.name} can be "
            f"({quantity.low:g}…{quantity.high:g} {quantity.unit}): a threshold in the wrong unit?",
        )
    return canonical


def _threshold(c: _Checker, condition: str, quantity: QuantityInfo | None) -> float | bool | str | None:
    value = c.data.get("threshold")
    if condition in ("offline", "stuck"):
        return None
    if value is None:
        raise c.fail("threshold", "is required")
    assert quantity is not None
    if condition == "equals":
        if quantity.numeric and not isinstance(value, bool):
            return _canonical(c, "threshold", value, quantity)
        if not isinstance(value, bool | str):
            raise c.fail("threshold", f"{value!r} is not a state")
        return value
    if not quantity.numeric:
        raise c.fail("condition", f"{condition} needs a numeric quantity; {quantity.name} is not one")
    if condition in ("rate_above", "rate_below"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise c.fail("threshold", f"{value!r} is not a rate")
        return float(value)  # per minute, in the canonical unit
    return _canonical(c, "threshold", value, quantity)


def _level(c: _Checker, key: str, quantity: QuantityInfo | None, condition: str, threshold: object) -> float | None:
    value = c.data.get(key)
    if value is None:
        return None
    if quantity is None or condition not in ("above", "below"):
        raise c.fail(key, f"applies to above and below rules only, not {condition}")
    level = _canonical(c, key, value, quantity)
    assert isinstance(threshold, float)
    rises = condition == "above"
    if key == "clear_at" and (level > threshold if rises else level < threshold):
        raise c.fail(key, f"must be on the safe side of the threshold ({'≤' if rises else '≥'} it)")
    if key == "worse_at" and (level <= threshold if rises else level >= threshold):
        raise c.fail(key, "must be beyond the threshold")
    return level


def _noise(c: _Checker, condition: str, window_s: float) -> dict[str, Any]:
    """Check the noise controls (count, every_s, min_history_s, confidence, flap_per_h) against the condition."""
    if condition == "offline" and "count" in c.data:
        raise c.fail("count", "a health change is no reading to count: hold an offline rule with for_s")
    c.only("every_s", condition, NUMERIC)
    c.only("min_history_s", condition, TRENDS)
    c.only("confidence", condition, TRENDS)
    every_s, window = c.number("every_s", 0), max(window_s, TREND_FLOOR_S)
    if condition in TRENDS and every_s * MIN_SAMPLES > window:
        raise c.fail("every_s", f"the trend's window ({window_s:g} s) must hold at least {MIN_SAMPLES} periods")
    if condition in ("rate_above", "rate_below") and every_s > window_s:
        raise c.fail("every_s", f"longer than the rate's window ({window_s:g} s)")
    min_history_s = c.number("min_history_s", window / 4) or window / 4
    if min_history_s > window:
        raise c.fail("min_history_s", f"longer than the window it is fitted over ({window:g} s)")
    confidence = c.number("confidence", 0.95)
    if not 0.5 <= confidence < 1:
        raise c.fail("confidence", f"{confidence:g} is not a one-sided confidence in [0.5, 1)")
    count, flap_per_h = c.integer("count", 1, 1), c.integer("flap_per_h", 6, 0)
    return {"count": count, "every_s": every_s, "min_history_s": min_history_s, "confidence": confidence,
            "flap_per_h": flap_per_h}  # fmt: skip


def _hours(c: _Checker) -> tuple[int, int] | None:
    value = c.data.get("hours")
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(h, int) and 0 <= h <= 24 for h in value)):
        raise c.fail("hours", f"{value!r} is not [start, end] in local hours 0…24")
    return value[0], value[1]


def place_rule(
    data: Mapping[str, Any], where: str = "", line_of: Callable[[str], int | None] = lambda k: None
) -> PlaceRule:
    """Check one place rule's table (its members are checked with the whole set)."""
    c = _Checker(data, where, line_of)
    c.keys(_PLACE_KEYS)
    members = data.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise c.fail("members", "must be a non-empty list of rule names")
    scope = data.get("scope", "space")
    if scope not in SCOPES:
        raise c.fail("scope", f"{scope!r} is not one of {', '.join(SCOPES)}")
    count = int(c.number("count", 2))
    if count < 1:
        raise c.fail("count", "must be at least 1")
    require_all = data.get("all", False)
    if not isinstance(require_all, bool):
        raise c.fail("all", f"{require_all!r} is not true or false")
    return PlaceRule(
        name=c.text("name"),
        members=tuple(members),
        severity=c.severity(),
        scope=scope,
        count=count,
        require_all=require_all,
        within_s=c.number("within_s", 60),
        escalate_after_min=c.number("escalate_after_min", 5),
        line=line_of("name"),
    )


def rule_set(devices: list[DeviceRule], places: list[PlaceRule], where: str = "") -> RuleSet:
    """Check rules together: unique names, members that exist, no place rule that feeds itself."""
    by_name: dict[str, DeviceRule | PlaceRule] = {}
    every: list[DeviceRule | PlaceRule] = [*devices, *places]
    for rule in every:
        if rule.name in by_name:
            raise RuleError(f"{_at(where, rule.line)}rule {rule.name!r}: the name is declared twice")
        by_name[rule.name] = rule
    for place in places:
        for member in place.members:
            if member not in by_name:
                raise RuleError(f"{_at(where, place.line)}rule {place.name!r}: members: no rule is named {member!r}")
    for place in places:
        cycle = _cycle(place.name, by_name, [])
        if cycle:
            what = "refers to itself" if len(cycle) == 2 else "is part of a cycle " + " → ".join(cycle)
            raise RuleError(f"{_at(where, place.line)}rule {place.name!r}: members: {what}")
    return RuleSet(tuple(devices), tuple(places), by_name)


def _at(where: str, line: int | None) -> str:
    if line is not None:
        return f"{where}:{line}: "
    return f"{where}: " if where else ""


def _cycle(name: str, rules: Mapping[str, DeviceRule | PlaceRule], trail: list[str]) -> list[str]:
    if name in trail:
        return [*trail[trail.index(name) :], name]
    rule = rules.get(name)
    if not isinstance(rule, PlaceRule):
        return []
    for member in rule.members:
        found = _cycle(member, rules, [*trail, name])
        if found:
            return found
    return []
