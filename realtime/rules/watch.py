"""The per-(rule, device) condition machines: hold time, hysteresis, rate, stuck value, trend.

Each machine keeps only what its rule needs (a pending-since time, a few samples) and answers a
reading with a verdict: raise (with a severity), clear, or nothing. Time is the reading's own,
passed in, so the rules are tested without waiting and a gateway's backlog is judged by when it
happened. A condition must hold for ``for_s`` before it raises, and an ``above`` alarm clears only
below ``clear_at``: together they are why a flapping value never mints a new alarm.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from twin.alarms.rules import DeviceRule
from twin.alarms.severity import AlarmSeverity

Value = float | bool | str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a reading means for an alarm: raise it (at a severity) or clear it."""

    action: str
    """``raise`` or ``clear``."""
    severity: AlarmSeverity = AlarmSeverity.WARNING
    value: float | None = None
    message: str = ""
    data: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Watch:
    """What one rule remembers of one device."""

    active: bool = False
    severity: AlarmSeverity | None = None
    pending_since: datetime | None = None
    pending: Verdict | None = None
    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=512))
    last_value: Value | None = None
    unchanged_since: datetime | None = None


def _number(value: Value) -> float | None:
    if isinstance(value, bool) or isinstance(value, str):
        return None
    return float(value)


def _in_hours(rule: DeviceRule, at: datetime, utc_offset_h: float) -> bool:
    if rule.hours is None:
        return True
    hour = (at + timedelta(hours=utc_offset_h)).hour
    start, end = rule.hours
    return start <= hour < end if start <= end else hour >= start or hour < end


def judge(rule: DeviceRule, watch: Watch, value: Value, at: datetime, utc_offset_h: float = 8.0) -> Verdict | None:
    """Feed one reading to a rule's machine; return what changed, if anything."""
    bad = _bad(rule, watch, value, at) if _in_hours(rule, at, utc_offset_h) else None
    return settle(rule, watch, bad, at)


def settle(rule: DeviceRule, watch: Watch, bad: Verdict | None, at: datetime) -> Verdict | None:
    """Apply hold time and remembered state to a condition's current truth."""
    if bad is None:
        watch.pending_since, watch.pending = None, None
        if watch.active:
            watch.active, watch.severity = False, None
            return Verdict("clear")
        return None
    if watch.active:
        if watch.severity is not None and bad.severity.rank > watch.severity.rank:
            watch.severity = bad.severity
            return bad
        return None
    if watch.pending_since is None:
        watch.pending_since = at
    watch.pending = bad
    if at - watch.pending_since >= timedelta(seconds=rule.for_s):
        watch.active, watch.severity, watch.pending_since, watch.pending = True, bad.severity, None, None
        return bad
    return None


def due(rule: DeviceRule, watch: Watch, now: datetime) -> Verdict | None:
    """Raise a held condition whose hold time has passed with no reading since (the periodic tick)."""
    if watch.active or watch.pending_since is None or watch.pending is None:
        return None
    if now - watch.pending_since >= timedelta(seconds=rule.for_s):
        return settle(rule, watch, watch.pending, now)
    return None


def _bad(rule: DeviceRule, watch: Watch, value: Value, at: datetime) -> Verdict | None:
    c = rule.condition
    number = _number(value)
    if c == "equals":
        same = value == rule.threshold if number is None else abs(number - float(rule.threshold or 0)) < 1e-9
        return Verdict("raise", rule.severity, number, f"{rule.quantity} = {value}") if same else None
    if c in ("above", "below"):
        return _threshold(rule, watch, number)
    if c in ("rate_above", "rate_below"):
        return _rate(rule, watch, number, at)
    if c == "stuck":
        return _stuck(rule, watch, value, at)
    if c in ("trend_above", "trend_below"):
        return _trend(rule, watch, number, at)
    return None


def _threshold(rule: DeviceRule, watch: Watch, number: float | None) -> Verdict | None:
    if number is None:
        return None
    threshold = float(rule.threshold)  # type: ignore[arg-type]
    sign = 1.0 if rule.condition == "above" else -1.0
    # Once raised, the alarm holds until the value is back past clear_at (hysteresis).
    limit = rule.clear_at if watch.active and rule.clear_at is not None else threshold
    beyond = sign * (number - limit) > 0
    if not beyond:
        return None
    severity = rule.severity
    if rule.worse_at is not None and sign * (number - rule.worse_at) > 0:
        severity = severity.raised()
    word = ">" if sign > 0 else "<"
    return Verdict("raise", severity, number, f"{rule.quantity} {number:g} {word} {threshold:g}")


def _rate(rule: DeviceRule, watch: Watch, number: float | None, at: datetime) -> Verdict | None:
    if number is None:
        return None
    t = at.timestamp()
    watch.samples.append((t, number))
    while watch.samples and watch.samples[0][0] < t - rule.window_s:
        watch.samples.popleft()
    t0, v0 = watch.samples[0]
    if t - t0 < 1.0:
        return None
    per_min = (number - v0) / (t - t0) * 60.0
    threshold = float(rule.threshold)  # type: ignore[arg-type]
    beyond = per_min > threshold if rule.condition == "rate_above" else per_min < threshold
    if not beyond:
        return None
    return Verdict("raise", rule.severity, number, f"{rule.quantity} changes {per_min:+.3g}/min", {"rate": per_min})


def _stuck(rule: DeviceRule, watch: Watch, value: Value, at: datetime) -> Verdict | None:
    if watch.last_value is None or value != watch.last_value:
        watch.last_value, watch.unchanged_since = value, at
        return None
    since = watch.unchanged_since or at
    if at - since < timedelta(hours=rule.stuck_h):
        return None
    return Verdict(
        "raise", rule.severity, _number(value), f"{rule.quantity} stuck at {value} since {since:%Y-%m-%d %H:%M}"
    )


def _trend(rule: DeviceRule, watch: Watch, number: float | None, at: datetime) -> Verdict | None:
    """Fit a line through the window's samples; raise when it crosses the threshold within the horizon."""
    if number is None:
        return None
    t = at.timestamp()
    watch.samples.append((t, number))
    window = max(rule.window_s, 600.0)
    while watch.samples and watch.samples[0][0] < t - window:
        watch.samples.popleft()
    if len(watch.samples) < 5 or t - watch.samples[0][0] < window / 4:
        return None
    n = len(watch.samples)
    mt = sum(s[0] for s in watch.samples) / n
    mv = sum(s[1] for s in watch.samples) / n
    var = sum((s[0] - mt) ** 2 for s in watch.samples)
    slope = sum((s[0] - mt) * (s[1] - mv) for s in watch.samples) / var if var else 0.0
    threshold = float(rule.threshold)  # type: ignore[arg-type]
    fitted = mv + slope * (t - mt)
    towards = slope > 0 if rule.condition == "trend_above" else slope < 0
    if not towards:
        return None
    eta_s = (threshold - fitted) / slope
    horizon = rule.horizon_h * 3600 * (1.5 if watch.active else 1.0)
    if eta_s > horizon:
        return None
    eta_s = max(eta_s, 0.0)
    crossing = datetime.fromtimestamp(t + eta_s, at.tzinfo)
    return Verdict(
        "raise",
        rule.severity,
        number,
        f"{rule.quantity} predicted to cross {threshold:g} in {eta_s / 3600:.1f} h",
        {"predicted_at": crossing.isoformat(), "slope_per_h": slope * 3600},
    )
