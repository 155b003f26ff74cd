"""Rules refused at load with their name and line; the demo scene's rules load; machines judge right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from realtime.rules.load import scene_rules, vocabulary
from realtime.rules.watch import Watch, judge
from twin.alarms.rules import RuleError, device_rule, place_rule, rule_set

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def write(folder: Path, text: str) -> Path:
    (folder / "alarms.toml").write_text(text, encoding="utf-8")
    return folder


def test_the_demo_scene_rules_load() -> None:
    devices, places = scene_rules(ROOT / "scenes" / "demo", vocabulary())
    rules = rule_set(devices, places)
    assert "确认火警 confirmed fire" in rules.by_name and len(devices) >= 9


OFFLINE = '[[rule]]\nname = "o"\nkind = "*"\ncondition = "offline"\n'
LOW = '[[rule]]\nname = "l"\nkind = "pressure_sensor"\nquantity = "pressure"\ncondition = "below"\nthreshold = 0.1\n'
SMOKE = '[[rule]]\nname = "s"\nkind = "smoke_detector"\nquantity = "smoke"\ncondition = "equals"\nthreshold = true\n'
TREND = ('[[rule]]\nname = "t"\nkind = "elevator"\nquantity = "vibration"\ncondition = "trend_above"\n'
         'threshold = 4.5\nwindow_s = 3600\nhorizon_h = 6\n')  # fmt: skip


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('[[rule]]\nname = "a"\nkind = "pressure_sensor"\nquantity = "presure"\ncondition = "above"\nthreshold = 1\n',
         4, "unknown quantity 'presure'"),
        ('[[rule]]\nname = "b"\nkind = "pressure_sensor"\nquantity = "pressure"\ncondition = "below"\n'
         'threshold = 250\n', 6, "wrong unit"),
        ('[[rule]]\nname = "c"\nkind = "pressure_sensor"\nquantity = "pressure"\ncondition = "below"\n'
         'threshold = 25\nunit = "°C"\n', 7, "unit '°C'"),
        ('[[rule]]\nname = "d"\ndevice = "NO-SUCH"\nquantity = "pressure"\ncondition = "below"\nthreshold = 0.2\n',
         3, "no device is tagged 'NO-SUCH'"),
        ('[[rule]]\nname = "e"\nkind = "smoke_detector"\nquantity = "smoke"\ncondition = "equals"\n'
         'threshold = true\n\n[[place_rule]]\nname = "f"\nmembers = ["f"]\n', 9, "refers to itself"),
        ('[[place_rule]]\nname = "g"\nmembers = ["h"]\n\n[[place_rule]]\nname = "h"\nmembers = ["g"]\n',
         2, "cycle g → h → g"),
        (OFFLINE + 'count = 2\n', 5, "count: a health change is no reading to count"),
        (LOW + 'count = 0\n', 7, "count: must be at least 1"),
        (LOW + 'count = 2.5\n', 7, "count: 2.5 is not a whole number"),
        (LOW + 'flap_per_h = -1\n', 7, "flap_per_h: must be at least 0"),
        (SMOKE + 'every_s = 60\n', 7, "every_s: applies to above, below"),
        (TREND + 'every_s = 900\n', 9, "must hold at least 5 periods"),
        (TREND + 'min_history_s = 7200\n', 9, "min_history_s: longer than the window"),
        (TREND + 'confidence = 1.0\n', 9, "confidence: 1 is not a one-sided confidence"),
        (LOW + 'confidence = 0.9\n', 7, "confidence: applies to trend_above, trend_below rules only"),
        (LOW + 'min_history_s = 60\n', 7, "min_history_s: applies to trend_above"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_refused_with_its_name_and_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    with pytest.raises(RuleError) as caught:
        devices, places = scene_rules(write(tmp_path, body), vocabulary(set()))
        rule_set(devices, places, str(tmp_path / "alarms.toml"))
    message = str(caught.value)
    assert f"alarms.toml:{line}:" in message and words in message
    assert "rule '" in message


def test_hysteresis_and_hold_keep_a_flapping_value_to_one_raise() -> None:
    rule = device_rule(
        {"name": "p", "kind": "pressure_sensor", "quantity": "pressure", "condition": "below", "threshold": 250,
         "clear_at": 300, "unit": "kPa", "for_s": 30, "severity": "major"},
        vocabulary(),
    )  # fmt: skip
    watch, verdicts = Watch(), []
    for second, kpa in [(0, 240), (10, 260), (20, 240), (40, 240), (55, 245), (60, 280), (70, 260), (80, 310)]:
        v = judge(rule, watch, kpa / 1000, T0 + timedelta(seconds=second))
        if v is not None:
            verdicts.append((second, v.action))
    assert verdicts == [(55, "raise"), (80, "clear")]


def test_a_trend_predicts_the_crossing_within_the_horizon() -> None:
    rule = device_rule(
        {"name": "t", "kind": "elevator", "quantity": "vibration", "condition": "trend_above", "threshold": 4.5,
         "horizon_h": 24, "window_s": 3600, "severity": "minor"},
        vocabulary(),
    )  # fmt: skip
    watch, found = Watch(), None
    for minute in range(0, 120, 5):  # +0.1 mm/s an hour from 2.0: crosses 4.5 in ~25 h, then sooner
        found = judge(rule, watch, 2.0 + 0.5 * minute / 60, T0 + timedelta(minutes=minute)) or found
    assert found is not None and found.action == "raise" and "predicted_at" in found.data


def test_a_stuck_meter_raises_after_its_hours() -> None:
    rule = device_rule(
        {"name": "s", "kind": "water_meter", "quantity": "pressure", "condition": "stuck", "stuck_h": 6}, vocabulary()
    )
    watch = Watch()
    assert judge(rule, watch, 0.3, T0) is None
    assert judge(rule, watch, 0.3, T0 + timedelta(hours=5)) is None
    assert judge(rule, watch, 0.3, T0 + timedelta(hours=6, seconds=1)) is not None
    verdict = judge(rule, watch, 0.31, T0 + timedelta(hours=7))
    assert verdict is not None and verdict.action == "clear"


def test_place_rule_keys_are_checked() -> None:
    with pytest.raises(RuleError, match="scope"):
        place_rule({"name": "x", "members": ["y"], "scope": "galaxy"})
