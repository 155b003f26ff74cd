"""Rule evaluation cost per reading, in memory: rules with today's keys beside the noise controls.

    python bench/bench_alarms.py --cost-only [--cost-devices 300 --cost-hours 2]

``RuleEngine.readings`` judges batches of 200 latest values, as the ingest hands them over, for
pressure sensors (every 10 s), environment sensors (every 10 s) and lifts (every 30 s). A tenth of
the sensors hover around their thresholds (but in the first pair), so alarms raise and clear and
the flapping bookkeeping works; the lifts' vibration jumps between idle and travelling as the
simulator's do. No database: the engine only queues what it decides (its writer never runs), so
what is timed is judging.
Each pair runs the same readings on a fresh engine, in turn, five times; the best run counts, in
CPU time of the process (the machine is shared: time spent waiting for a core is not judging).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from realtime.bindings import Bound
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from realtime.state import Latest
from twin.alarms.rules import device_rule, rule_set
from twin.store.engine import make_engine

T0 = datetime(2026, 3, 2, tzinfo=UTC)
BATCH = 200
TODAY: dict[str, dict[str, Any]] = {
    "pressure": {"name": "low", "kind": "pressure_sensor", "quantity": "pressure", "condition": "below",
                 "threshold": 0.25, "clear_at": 0.3, "for_s": 30, "severity": "major", "flap_per_h": 0},
    "temperature": {"name": "hot", "kind": "env_sensor", "quantity": "temperature", "condition": "above",
                    "threshold": 50, "clear_at": 40, "severity": "minor", "flap_per_h": 0},
    "vibration": {"name": "trend", "kind": "elevator", "quantity": "vibration", "condition": "trend_above",
                  "threshold": 4.5, "horizon_h": 24, "window_s": 3600, "confidence": 0.5, "severity": "minor",
                  "flap_per_h": 0},
}  # fmt: skip
"""Today's keys: hysteresis and a hold time, a trend on its point estimate; no flapping hold."""
COUNT = {"count": 3, "flap_per_h": 6}
PERIOD = {**COUNT, "every_s": 60}
CONFIDENT = {"confidence": 0.999, "min_history_s": 1800, "count": 3, "flap_per_h": 6}
DEMO_TREND = {**CONFIDENT, "every_s": 300, "horizon_h": 6}


@dataclass(frozen=True, slots=True)
class Pair:
    """Two rule sets judged on the same readings: today's keys and the same rules with noise controls."""

    name: str
    quantities: tuple[str, ...]
    new: dict[str, dict[str, Any]]
    hovering: bool = True
    """A tenth of the sensors hover around the threshold; False: every value is far from it."""


PAIRS = (
    Pair(
        "threshold + count 3, flapping; nothing raises",
        ("pressure", "temperature"),
        {"pressure": COUNT, "temperature": COUNT},
        hovering=False,
    ),  # fmt: skip
    Pair("threshold + count 3, flapping", ("pressure", "temperature"), {"pressure": COUNT, "temperature": COUNT}),
    Pair("threshold + every_s 60, count 3", ("pressure", "temperature"), {"pressure": PERIOD, "temperature": PERIOD}),
    Pair("trend + confidence, history, count (each reading)", ("vibration",), {"vibration": CONFIDENT}),
    Pair("trend as the demo's (+ every_s 300)", ("vibration",), {"vibration": DEMO_TREND}),
    Pair(
        "all three kinds: the demo's noise controls",
        ("pressure", "temperature", "vibration"),
        {"pressure": COUNT, "temperature": PERIOD, "vibration": DEMO_TREND},
    ),
)
KINDS = {"pressure": ("pressure_sensor", "MPa", 10.0), "temperature": ("env_sensor", "°C", 10.0),
         "vibration": ("elevator", "mm/s", 30.0)}  # fmt: skip


def _value(quantity: str, rng: random.Random, hovering: bool) -> float:
    if quantity == "pressure":
        return rng.gauss(0.25, 0.04) if hovering else rng.gauss(0.45, 0.02)
    if quantity == "temperature":
        return rng.gauss(45.0, 6.0) if hovering else rng.gauss(22.0, 1.0)
    return rng.uniform(0.4, 1.1) if rng.random() < 0.6 else rng.uniform(0.02, 0.08)


def readings(pair: Pair, devices: int, hours: float) -> tuple[list[list[Any]], dict[int, Bound]]:
    """Return the batches of (key, latest) for ``devices`` devices of each quantity's kind, and the devices."""
    rng = random.Random(7)
    bound: dict[int, Bound] = {}
    stream: list[tuple[datetime, tuple[int, str], Latest]] = []
    for q in pair.quantities:
        kind, unit, every = KINDS[q]
        for i in range(devices):
            device_id = len(bound) + 1
            bound[device_id] = Bound(device_id, kind, f"1.2.3.{device_id}", every, None, "online", None)
            phase = rng.uniform(0, every)
            hovering = pair.hovering and i % 10 == 0
            for step in range(int(hours * 3600 / every)):
                at = T0 + timedelta(seconds=phase + step * every)
                stream.append((at, (device_id, q), Latest(_value(q, rng, hovering), unit, at)))
    stream.sort(key=lambda r: r[0])
    items = [(key, latest) for _, key, latest in stream]
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)], bound


def _engine(specs: list[dict[str, Any]], bound: dict[int, Bound]) -> RuleEngine:
    rules = rule_set([device_rule(s, vocabulary()) for s in specs], [])
    # A URL nothing listens on: the engine is built, never connected (its writer is not started).
    return RuleEngine(rules, make_engine("postgresql+psycopg://bench@127.0.0.1:9/none"), bound.get)


def _time(specs: list[dict[str, Any]], bound: dict[int, Bound], batches: list[list[Any]]) -> tuple[float, int]:
    engine = _engine(specs, bound)
    started = time.process_time()
    for batch in batches:
        engine.readings(batch)
    elapsed = time.process_time() - started
    return elapsed, engine.counts().pending


@dataclass(frozen=True, slots=True)
class Cost:
    """What one pair cost per reading, and how many raises and clears each side queued."""

    name: str
    today_us: float
    new_us: float
    today_ops: int
    new_ops: int

    @property
    def ratio(self) -> float:
        return self.new_us / self.today_us


def measure(devices: int = 300, hours: float = 2.0, runs: int = 5) -> list[Cost]:
    """Time every pair; return the best run of each side, in µs per reading."""
    out = []
    for pair in PAIRS:
        batches, bound = readings(pair, devices, hours)
        n = sum(len(b) for b in batches)
        today = [TODAY[q] for q in pair.quantities]
        new = [{**TODAY[q], **pair.new.get(q, {})} for q in pair.quantities]
        best_today = best_new = float("inf")
        ops = (0, 0)
        for _ in range(runs):
            t, today_ops = _time(today, bound, batches)
            u, new_ops = _time(new, bound, batches)
            best_today, best_new, ops = min(best_today, t), min(best_new, u), (today_ops, new_ops)
        out.append(Cost(pair.name, best_today / n * 1e6, best_new / n * 1e6, *ops))
    return out
