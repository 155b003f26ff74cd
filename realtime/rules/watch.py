"""The per-(rule, device) condition machines: repeat count, hold time, period, hysteresis, rate, stuck, trend.

Each machine keeps only what its rule needs (a pending-since time, a streak, a period's sum, a
trend's running sums) and answers a reading with a verdict: raise (with a severity), clear, or
nothing. Time is the reading's own, passed in, so the rules are tested without waiting and a
gateway's backlog is judged by when it happened. A condition must hold for ``for_s`` and ``count``
judgements before it raises, and an ``above`` alarm clears only below ``clear_at``: together they
keep a noisy value to one alarm. What still raises and clears more than ``flap_per_h`` times an
hour is held open as flapping (``realtime.rules.flapping``) instead of minting occurrences.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from realtime.rules.flapping import guard, release_due
from realtime.rules.trend import Fit, eta_s, t_quantile
from realtime.rules.verdict import Verdict
from twin.alarms.rules import MIN_SAMPLES, TREND_FLOOR_S, DeviceRule
from twin.alarms.severity import AlarmSeverity

Value = float | bool | str
__all__ = ["Value", "Verdict", "Watch", "due", "judge", "settle"]


@dataclass(slots=True)
class Watch:
    """What one rule remembers of one device."""

    active: bool = False
    severity: AlarmSeverity | None = None
    pending_since: datetime | None = None
    pending: Verdict | None = None
    streak: int = 0
    """Consecutive judgements the condition was true on (for ``count``)."""
    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=512))
    last_value: Value | None = None
    unchanged_since: datetime | None = None
    fit: Fit | None = None
    period: int | None = None
    """The index of the evaluation period being summed (reading time // ``every_s``)."""
    period_sum: float = 0.0
    period_n: int = 0
    raises: deque[float] | None = None
    """When the condition raised within the last hour (epoch seconds), for the flapping count."""
    held: Verdict | None = None
    """The verdict shown while the alarm is held open as flapping; None when not held."""
    last_flip: datetime | None = None


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
    """Feed one reading to a rule's machine; return what changed, if anything.

    With an evaluation period the reading only adds to its period's sum; the first reading of a
    later period judges the mean of the one it closes, at that period's end.
    """
    if rule.every_s:
        closed = _close_period(rule, watch, value, at)
        if closed is None:
            return None
        value, at = closed
    bad = _bad(rule, watch, value, at) if _in_hours(rule, at, utc_offset_h) else None
    return settle(rule, watch, bad, at)


def _close_period(rule: DeviceRule, watch: Watch, value: Value, at: datetime) -> tuple[float, datetime] | None:
    number = _number(value)
    if number is None:
        return None
    index = int(at.timestamp() // rule.every_s)
    closed = None
    if watch.period is not None and index != watch.period:
        if index < watch.period:
            return None  # a late reading of a period already judged
        end = datetime.fromtimestamp((watch.period + 1) * rule.every_s, at.tzinfo)
        closed = watch.period_sum / watch.period_n, end
        watch.period_sum, watch.period_n = 0.0, 0
    watch.period = index
    watch.period_sum += number
    watch.period_n += 1
    return closed


def settle(rule: DeviceRule, watch: Watch, bad: Verdict | None, at: datetime) -> Verdict | None:
    """Apply repeat count, hold time, remembered state and the flapping hold to a condition's truth."""
    was = watch.active
    verdict = _machine(rule, watch, bad, at)
    return guard(rule, watch, verdict, watch.active != was, at)


def _machine(rule: DeviceRule, watch: Watch, bad: Verdict | None, at: datetime) -> Verdict | None:
    if bad is None:
        watch.pending_since, watch.pending, watch.streak = None, None, 0
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
    watch.streak += 1
    return _raise_when_held(rule, watch, at)


def _raise_when_held(rule: DeviceRule, watch: Watch, at: datetime) -> Verdict | None:
    bad, since = watch.pending, watch.pending_since
    if bad is None or since is None or watch.streak < rule.count or at - since < timedelta(seconds=rule.for_s):
        return None
    watch.active, watch.severity, watch.pending_since, watch.pending = True, bad.severity, None, None
    return bad


def due(rule: DeviceRule, watch: Watch, now: datetime) -> Verdict | None:
    """The periodic tick: raise a condition held past its hold time, or end a quiet flapping hold."""
    if watch.held is not None:
        return release_due(watch, now)
    if watch.active:
        return None
    return guard(rule, watch, _raise_when_held(rule, watch, now), watch.active, now)


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
    """Fit a line through the window's samples; raise when it is confidently crossing within the horizon.

    Raising asks the slope's pessimistic bound (nearest to flat) to cross within the horizon;
    once raised, the alarm holds while the optimistic bound still crosses within 1.5 horizons,
    so a noisy projection wobbling around the horizon raises once and clears once.
    """
    if number is None:
        return None
    t = at.timestamp()
    fit = watch.fit
    if fit is None:
        fit = watch.fit = Fit()
    fit.add(t, number, max(rule.window_s, TREND_FLOOR_S))
    if len(fit.samples) < MIN_SAMPLES or fit.span() < rule.min_history_s:
        if watch.active:  # too little history to judge: what was predicted stands
            return Verdict("raise", watch.severity or rule.severity, number, "")
        return None
    line = fit.line(t)
    threshold = float(rule.threshold)  # type: ignore[arg-type]
    sign = 1.0 if rule.condition == "trend_above" else -1.0
    margin = t_quantile(rule.confidence, line.n - 2) * line.slope_se
    if watch.active:
        eta, horizon = eta_s(line, line.slope + sign * margin, threshold, sign), 1.5 * rule.horizon_h
    else:
        eta, horizon = eta_s(line, line.slope - sign * margin, threshold, sign), rule.horizon_h
    if eta > horizon * 3600:
        return None
    point = eta_s(line, line.slope, threshold, sign)
    best = point if point <= horizon * 3600 else eta
    crossing = datetime.fromtimestamp(t + best, at.tzinfo)
    return Verdict(
        "raise",
        rule.severity,
        number,
        f"{rule.quantity} predicted to cross {threshold:g} in {best / 3600:.1f} h",
        {"predicted_at": crossing.isoformat(), "slope_per_h": line.slope * 3600, "slope_se": line.slope_se * 3600},
    )
