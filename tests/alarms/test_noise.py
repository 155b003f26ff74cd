"""The rule language's noise controls, judged by the condition machines alone: repeat count, evaluation
period, a trend's history and confidence, and the flapping hold."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from realtime.rules.load import vocabulary
from realtime.rules.trend import Fit, t_quantile
from realtime.rules.watch import Verdict, Watch, due, judge
from twin.alarms.rules import DeviceRule, device_rule

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PRESSURE = {"name": "p", "kind": "pressure_sensor", "quantity": "pressure", "condition": "below", "threshold": 0.1,
            "severity": "major"}  # fmt: skip
HOT = {"name": "hot", "kind": "env_sensor", "quantity": "temperature", "condition": "above", "threshold": 50,
       "clear_at": 40, "severity": "major"}  # fmt: skip
TREND = {"name": "t", "kind": "elevator", "quantity": "vibration", "condition": "trend_above", "threshold": 4.5,
         "window_s": 3600, "horizon_h": 6, "severity": "minor"}  # fmt: skip


def rule(base: dict[str, Any], **keys: Any) -> DeviceRule:
    return device_rule({**base, **keys}, vocabulary())


Series = Iterable[tuple[float, float]]


def feed(r: DeviceRule, series: Series, watch: Watch | None = None) -> list[tuple[float, Verdict]]:
    """Judge (second, value) readings; return the verdicts with the second they came at."""
    w = watch if watch is not None else Watch()
    out = []
    for second, value in series:
        verdict = judge(r, w, value, T0 + timedelta(seconds=second))
        if verdict is not None:
            out.append((second, verdict))
    return out


def actions(verdicts: list[tuple[float, Verdict]]) -> list[tuple[float, str]]:
    return [(s, v.action) for s, v in verdicts]


def test_a_repeat_count_needs_consecutive_readings() -> None:
    r = rule(PRESSURE, count=3)
    series = [(0, 0.05), (10, 0.05), (20, 0.3), (30, 0.05), (40, 0.05), (50, 0.05), (60, 0.3)]
    assert actions(feed(r, series)) == [(50, "raise"), (60, "clear")]


def test_a_count_and_a_hold_time_must_both_hold() -> None:
    r = rule(PRESSURE, count=3, for_s=60)
    watch = Watch()
    assert feed(r, [(0, 0.05), (10, 0.05), (20, 0.05)], watch) == []  # three readings, 20 s
    assert due(r, watch, T0 + timedelta(seconds=61)) is not None  # the tick raises once both hold
    short = Watch()
    feed(r, [(0, 0.05), (10, 0.05)], short)
    assert due(r, short, T0 + timedelta(seconds=120)) is None  # 120 s, but only two readings


def test_an_evaluation_period_judges_its_mean_once_at_its_end() -> None:
    r = rule(HOT, every_s=60)
    # one 70 °C spike among 20s: the minute's mean is 32.5, nothing; the next minute's mean is 60
    series = [(0, 20), (15, 70), (30, 20), (45, 20), (60, 55), (75, 65), (90, 60), (119, 60), (120, 20)]
    verdicts = feed(r, series)
    assert actions(verdicts) == [(120, "raise")]
    assert verdicts[0][1].value == pytest.approx(60.0)
    assert feed(r, [(5, 80)], Watch(period=10**9)) == []  # a late reading of a judged period is left out


def test_count_counts_periods_when_the_rule_has_one() -> None:
    r = rule(HOT, every_s=60, count=2)
    series = [(s, 60.0) for s in range(0, 240, 20)]
    assert actions(feed(r, series)) == [(120, "raise")]  # the second minute closes at 120 s: two in a row


def test_incremental_sums_give_the_least_squares_line() -> None:
    rng, fit = random.Random(3), Fit()
    t0 = T0.timestamp()
    kept: list[tuple[float, float]] = []
    for i in range(3000):  # many windows: the reference is re-based, old samples leave
        t, v = t0 + 7 * i, 2.0 + 0.001 * i + rng.gauss(0, 0.3)
        fit.add(t, v, 1800)
        kept = [(a, b) for a, b in [*kept, (t, v)] if a >= t - 1800]
    n = len(kept)
    mt, mv = sum(a for a, _ in kept) / n, sum(b for _, b in kept) / n
    sxx = sum((a - mt) ** 2 for a, _ in kept)
    slope = sum((a - mt) * (b - mv) for a, b in kept) / sxx
    sse = sum((b - mv - slope * (a - mt)) ** 2 for a, b in kept)
    line = fit.line(kept[-1][0])
    assert line.n == n == len(fit.samples)
    assert line.slope == pytest.approx(slope, rel=1e-9)
    assert line.level == pytest.approx(mv + slope * (kept[-1][0] - mt), rel=1e-9)
    assert line.slope_se == pytest.approx((sse / (n - 2) / sxx) ** 0.5, rel=1e-6)


def test_the_t_quantile_is_students() -> None:
    # scipy.stats.t.ppf(0.95, 4), (0.99, 10), (0.999, 30)
    for confidence, dof, expected in ((0.95, 4, 2.1318), (0.99, 10, 2.7638), (0.999, 30, 3.3852)):
        assert t_quantile(confidence, dof) == pytest.approx(expected, rel=0.02)


def test_a_trend_waits_for_its_minimum_history() -> None:
    r = rule(TREND, min_history_s=1800, confidence=0.5)
    steep = [(m * 60, 1.0 + 0.05 * m) for m in range(40)]  # +3 an hour: crosses 4.5 at 70 min
    assert actions(feed(r, steep))[0] == (1800, "raise")


def test_a_noisy_flat_series_is_no_trend_at_a_high_confidence() -> None:
    rng = random.Random(11)
    series = [(m * 60, rng.choice([0.05, 0.9]) + rng.uniform(0, 0.2)) for m in range(24 * 60)]
    assert len(feed(rule(TREND, horizon_h=24, confidence=0.5), series)) > 4  # the bare projection wobbles
    assert feed(rule(TREND, horizon_h=24, confidence=0.999), series) == []


@pytest.mark.parametrize("seed", [4, 7])
def test_a_trend_raised_once_stays_open_through_the_wobble_and_clears_when_it_is_gone(seed: int) -> None:
    rng = random.Random(seed)
    drift = [(m * 60, 0.5 + 1.2 * m / 60 + rng.gauss(0, 0.4)) for m in range(150)]  # crosses 4.5 at ~3.3 h
    flat = [(m * 60, 0.5 + rng.gauss(0, 0.4)) for m in range(150, 330)]
    bare = [a for _, a in actions(feed(rule(TREND, confidence=0.5), drift + flat))]
    assert bare == ["raise", "clear", "raise", "clear"]  # the projection wobbled across the horizon
    verdicts = actions(feed(rule(TREND, confidence=0.95), drift + flat))
    assert [a for _, a in verdicts] == ["raise", "clear"]  # one alarm
    assert verdicts[0][0] < 2.5 * 3600 and verdicts[1][0] > 150 * 60


def test_a_trend_rule_says_when_and_how_sure() -> None:
    verdicts = feed(rule(TREND), [(m * 60, 1.0 + 0.05 * m) for m in range(40)])
    data = verdicts[0][1].data
    assert "predicted to cross 4.5 in" in verdicts[0][1].message
    assert data["slope_per_h"] == pytest.approx(3.0) and data["slope_se"] == pytest.approx(0.0, abs=1e-6)


def flapping(seconds: int, period: int = 120) -> list[tuple[float, float]]:
    """60 °C and 20 °C in turn, each for half of ``period``."""
    return [(s, 60.0 if (s // (period // 2)) % 2 == 0 else 20.0) for s in range(0, seconds, period // 2)]


def test_a_flapping_alarm_is_held_open_with_a_notice_and_released_after_a_quiet_hour() -> None:
    r = rule(HOT, flap_per_h=3)
    watch = Watch()
    verdicts = feed(r, flapping(1800), watch)
    assert [v.action for _, v in verdicts] == ["raise", "clear", "raise", "clear", "raise", "clear", "raise"]
    held = verdicts[-1][1]
    assert held.data["flapping"] is True and "flapping: 4 raises within an hour, held open" in held.message
    assert all("flapping" not in v.data for _, v in verdicts[:-1])
    quiet = [(1800 + s, 20.0) for s in range(0, 3700, 60)]
    assert actions(feed(r, quiet, watch)) == [(1800 + 3600 - 60, "clear")]  # an hour after the last flip
    assert watch.held is None and watch.raises is None


def test_a_flapping_alarm_that_stays_true_is_shown_as_an_ordinary_open_alarm() -> None:
    r = rule(HOT, flap_per_h=3)
    watch = Watch()
    feed(r, flapping(1800), watch)
    steady = feed(r, [(1800 + s, 60.0) for s in range(0, 3700, 60)], watch)
    assert len(steady) == 1 and steady[0][1].action == "raise" and steady[0][1].data["flapping"] is False
    assert "flapping" not in steady[0][1].message and watch.active


def test_the_tick_releases_a_hold_when_readings_stop() -> None:
    r = rule(HOT, flap_per_h=2)
    watch = Watch()
    feed(r, flapping(1200), watch)
    flip = watch.last_flip
    assert flip is not None and watch.held is not None
    assert due(r, watch, flip + timedelta(seconds=3599)) is None
    released = due(r, watch, flip + timedelta(seconds=3600))
    assert released is not None and watch.held is None


def test_flapping_counts_raises_over_a_sliding_hour_and_can_be_switched_off() -> None:
    slow = feed(rule(HOT, flap_per_h=3), flapping(6 * 3600, period=1800))  # two raises an hour
    assert not any(v.data.get("flapping") for _, v in slow) and len(slow) == 24
    off = feed(rule(HOT, flap_per_h=0), flapping(3600))
    assert len(off) == 60 and not any(v.data.get("flapping") for _, v in off)
