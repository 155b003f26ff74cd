"""Builders for the live alarm tests: a profile, devices bound to it, an ingest with a rule engine."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec

from realtime.ingest import Ingest
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from realtime.specs import Profile
from tests.conftest import BrokerInfo
from tests.ingest.helpers import Graph, add_device, build_graph, epoch_ms, ingest_config, query, running, unique
from twin.alarms.rules import RuleSet, device_rule, place_rule, rule_set
from twin.catalogue import DeviceKind
from twin.events import EventBus, RegistryEvent
from twin.store.engine import make_engine

P = ParamSpec("P")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

RULES = [
    {"name": "hot", "kind": "env_sensor", "quantity": "temperature", "condition": "above", "threshold": 30,
     "clear_at": 28, "worse_at": 45, "severity": "minor"},
    {"name": "door held", "kind": "env_sensor", "quantity": "door_open", "condition": "equals", "threshold": True,
     "severity": "warning", "for_s": 30},
    {"name": "gateway offline", "kind": "gateway", "condition": "offline", "severity": "major"},
    {"name": "device offline", "kind": "*", "condition": "offline", "severity": "minor"},
]  # fmt: skip
PLACES = [
    {"name": "hot floor", "members": ["hot"], "scope": "floor", "count": 2, "within_s": 60, "severity": "critical"}
]


def rules() -> RuleSet:
    """Return the test rules, checked like any others."""
    vocab = vocabulary()
    return rule_set([device_rule(r, vocab) for r in RULES], [place_rule(p) for p in PLACES])


@dataclass
class Site:
    """A graph with a gateway and sensors behind it, bound to one test profile."""

    graph: Graph
    profile: Profile

    def device(self, name: str) -> int:
        return self.graph.devices[name]


def build_site(db_url: str, profile: Profile, sensors: int = 3) -> Site:
    """Create a gateway GW and sensors S0… behind it, all in unit 3-2-1801."""
    g = build_graph(db_url)
    ns = profile.namespace
    gw = add_device(db_url, g, "GW", DeviceKind.GATEWAY, (ns, "gw"))
    for i in range(sensors):
        add_device(db_url, g, f"S{i}", DeviceKind.ENV_SENSOR, (ns, f"s{i}"), via=gw)
    return Site(g, profile)


def reading(site: Site, sensor: str, seconds: float, **values: Any) -> tuple[str, str]:
    """Return a (topic, payload) of a sensor's reading ``seconds`` after T0, through the gateway."""
    ns = site.profile.namespace
    payload = {"ts": epoch_ms(T0 + timedelta(seconds=seconds)), **values}
    return f"{ns}/gw/{sensor.lower()}", json.dumps(payload)


def sync(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test on a fresh event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@asynccontextmanager
async def live(
    db_url: str, broker: BrokerInfo, site: Site, home: Path, **options: Any
) -> AsyncIterator[tuple[Ingest, RuleEngine, list[RegistryEvent]]]:
    """Run an ingest with a rule engine attached; yield them and the alarm events seen."""
    bus, seen = EventBus(), []
    bus.subscribe(lambda e: seen.append(e) if e.kind == "alarm" else None)
    group = options.pop("shared_group", None)
    config = ingest_config(db_url, broker, site.profile, home, options.pop("client_id", unique("ing")), **options)
    config = replace(config, broker=replace(config.broker, shared_group=group))
    engine = make_engine(db_url)
    try:
        async with running(config, db_url) as ingest:
            rule_engine = RuleEngine(
                rules(), engine, lambda i: ingest.bindings.table.devices.get(i), events=bus, tick_s=0.2
            )
            await rule_engine.start()
            ingest.state.subscribe(rule_engine.readings)
            ingest.health_listeners.append(rule_engine.health)
            try:
                yield ingest, rule_engine, seen
            finally:
                await rule_engine.stop()
    finally:
        engine.dispose()


def alarms(db_url: str) -> list[tuple[Any, ...]]:
    """Return (rule, subject, state, severity, occurrences, parent rule) of every alarm."""
    return query(
        db_url,
        "SELECT a.rule, a.subject, a.state, a.severity, a.occurrences, p.rule FROM alarms a "
        "LEFT JOIN alarms p ON p.id = a.parent_id ORDER BY a.rule, a.subject",
    )
