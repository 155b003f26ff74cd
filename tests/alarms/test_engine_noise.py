"""The noise controls judged through the RuleEngine into the real PostGIS: what is stored and told."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from realtime.bindings import Bound
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from realtime.state import Latest
from tests.alarms.live import sync
from tests.alarms.test_store import device_path
from tests.ingest.helpers import Graph
from twin.alarms.rules import RuleSet, device_rule, rule_set
from twin.events import EventBus, RegistryEvent
from twin.store.alarms import AlarmRow
from twin.store.engine import session_factory

T0 = datetime.now(UTC).replace(microsecond=0, second=0) - timedelta(hours=3)
HIGH = {"name": "high", "kind": "pressure_sensor", "quantity": "pressure", "condition": "above", "threshold": 1.0,
        "clear_at": 0.8, "severity": "major", "flap_per_h": 3}  # fmt: skip
LOW = {"name": "low", "kind": "pressure_sensor", "quantity": "pressure", "condition": "below", "threshold": 0.1,
       "severity": "major", "count": 3, "every_s": 60}  # fmt: skip


def rules(*specs: dict[str, Any]) -> RuleSet:
    return rule_set([device_rule(s, vocabulary()) for s in specs], [])


class Judged:
    """A rule engine on the test's database, fed readings of the pressure sensor PS-1 by hand."""

    def __init__(self, engine: Engine, graph: Graph, ruleset: RuleSet) -> None:
        self.engine, self.events = engine, EventBus()
        self.seen: list[RegistryEvent] = []
        self.events.subscribe(lambda e: self.seen.append(e) if e.kind == "alarm" else None)
        device_id = graph.devices["PS-1"]
        self.device = Bound(device_id, "pressure_sensor", device_path(engine, device_id), 60.0, None, "online", None)
        # No tick while the test runs: it judges by the wall clock, these readings are hours old.
        self.rules = RuleEngine(ruleset, engine, self._bound, events=self.events, tick_s=3600)

    def _bound(self, device_id: int) -> Bound | None:
        return self.device if device_id == self.device.device_id else None

    async def feed(self, series: Iterable[tuple[float, float]]) -> None:
        for second, mpa in series:
            key = (self.device.device_id, "pressure")
            self.rules.readings([(key, Latest(mpa, "MPa", T0 + timedelta(seconds=second)))])
            await self.rules.flush()

    def causes(self) -> list[str]:
        return [str(e.data["cause"]) for e in self.seen]

    def alarm(self, rule: str) -> AlarmRow:
        with session_factory(self.engine)() as session:
            rows = list(session.scalars(select(AlarmRow).where(AlarmRow.rule == rule)))
            assert len(rows) == 1
            return rows[0]


def flapping(start: float, seconds: float) -> list[tuple[float, float]]:
    """1.2 and 0.5 MPa in turn, a minute each."""
    return [(start + s, 1.2 if (s // 60) % 2 == 0 else 0.5) for s in range(0, int(seconds), 60)]


@sync
async def test_a_count_of_periods_raises_once_with_the_period_mean(engine: Engine, graph: Graph) -> None:
    judged = Judged(engine, graph, rules(LOW))
    normal = [(s, 0.3) for s in range(0, 60, 10)]
    low = [(s, 0.02 if s % 20 == 0 else 0.08) for s in range(60, 180, 10)]  # minutes 1 and 2: a mean of 0.05
    await judged.feed([*normal, *low, (180, 0.05)])
    assert judged.causes() == []  # two low minutes of three
    await judged.feed((s, 0.05) for s in range(190, 250, 10))
    row = judged.alarm("low")
    assert judged.causes() == ["raised"] and row.first_at == T0 + timedelta(seconds=240)  # minute 3's end
    assert row.value == pytest.approx(0.05) and row.state == "raised"
    await judged.rules.stop()


@sync
async def test_a_flapping_alarm_is_held_told_once_and_cleared_after_a_quiet_hour(engine: Engine, graph: Graph) -> None:
    judged = Judged(engine, graph, rules(HIGH))
    await judged.feed(flapping(0, 1800))
    assert judged.causes() == ["raised", "cleared", "reopened", "cleared", "reopened", "cleared", "flapping"]
    row = judged.alarm("high")
    assert row.state == "raised" and row.occurrences == 4 and row.data["flapping"] is True
    assert "flapping: 4 raises within an hour, held open" in row.message
    await judged.rules.stop()

    resumed = Judged(engine, graph, rules(HIGH))  # a restarted engine keeps the hold
    await resumed.rules.start()
    await resumed.feed(flapping(1800, 1200))
    assert resumed.causes() == []
    await resumed.feed((3000 + s, 0.5) for s in range(0, 3480, 60))
    assert resumed.causes() == []  # the last flip was at 2940 s: not yet an hour of quiet
    await resumed.feed([(6540, 0.5)])
    assert resumed.causes() == ["cleared"]
    assert judged.alarm("high").state == "cleared"
    await resumed.rules.stop()


@sync
async def test_a_held_alarm_whose_condition_stays_is_told_steady(engine: Engine, graph: Graph) -> None:
    judged = Judged(engine, graph, rules(HIGH))
    await judged.feed(flapping(0, 1500))
    await judged.feed((1500 + s, 1.3) for s in range(0, 3700, 60))
    assert judged.causes()[-2:] == ["flapping", "steady"]
    row = judged.alarm("high")
    assert row.state == "raised" and row.data["flapping"] is False and "flapping" not in row.message
    await judged.feed([(5300, 0.5)])
    assert judged.causes()[-1] == "cleared"  # an ordinary alarm again
    await judged.rules.stop()


@sync
async def test_a_confident_trend_is_raised_once_with_its_prediction_and_cleared_once(
    engine: Engine, graph: Graph
) -> None:
    sag = {"name": "sag", "kind": "pressure_sensor", "quantity": "pressure", "condition": "trend_below",
           "threshold": 0.25, "horizon_h": 6, "window_s": 3600, "every_s": 300, "min_history_s": 1800,
           "confidence": 0.99, "count": 2, "severity": "minor"}  # fmt: skip
    judged = Judged(engine, graph, rules(sag))
    rng = random.Random(3)
    sagging = [(s, 0.45 - 0.1 * s / 3600 + rng.gauss(0, 0.01)) for s in range(0, 2 * 3600, 60)]
    recovered = [(s, 0.45 + rng.gauss(0, 0.01)) for s in range(2 * 3600, 5 * 3600, 60)]
    await judged.feed(sagging)
    assert judged.causes() == ["raised"]
    row = judged.alarm("sag")
    assert "predicted to cross 0.25 in" in row.message and row.data["slope_per_h"] == pytest.approx(-0.1, rel=0.2)
    assert row.first_at - T0 < timedelta(minutes=50)  # half an hour of history, two periods in a row
    await judged.feed(recovered)
    assert judged.causes() == ["raised", "cleared"]
    await judged.rules.stop()
