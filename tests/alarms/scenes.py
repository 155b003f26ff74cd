"""A small generated scene with the demo's rules for the simulator's incidents, and a live path to run them on.

The demo's hold times are minutes of wall-clock time (a reading's time is the wall clock even when
simulated time runs faster), so this copy holds no condition: what is tested is which alarms an
incident raises and how they group, not how long they wait.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from realtime.ingest import Ingest, IngestConfig
from realtime.mqtt import BrokerSettings
from realtime.profiles import load_profiles
from realtime.rules.engine import RuleEngine
from realtime.rules.setup import start_rules
from realtime.simulator.publish import SimulateReport, publish_shard
from tests.conftest import BrokerInfo
from tests.ingest.helpers import query, running, unique
from tests.scenes.conftest import ROOT, WRITERS, write_demo_settings
from twin.events import EventBus, RegistryEvent
from twin.scenes import GenerateSpec, Scene, load_scene, read_bindings
from twin.scenes.generate import generate_scene
from twin.store.engine import make_engine

SPEC = GenerateSpec(buildings=2, floors=3, units_per_floor=2, seed=7)
RATE = 10.0
"""Messages per second: about 19 times the small scene's natural traffic, so a minute passes in three seconds."""


def write_scene(folder: Path) -> Scene:
    """Generate the small scene with the demo's rules, every hold time zero."""
    write_demo_settings(folder, SPEC)
    for name in ("scene.toml", "alarms.toml"):
        path = folder / name
        path.write_text(re.sub(r"^for_s = \d+", "for_s = 0", path.read_text(encoding="utf-8"), flags=re.M))
    generate_scene(folder, SPEC, WRITERS, last_period="2026-06")
    return load_scene(folder)


def simulate(scene: Scene, broker: BrokerInfo, scenario: str, seconds: float) -> SimulateReport:
    """Publish the scene's devices with a scripted incident for ``seconds`` of wall-clock time."""
    assert scene.bindings_file is not None
    settings = BrokerSettings(broker.host, broker.port, **broker.simulator, client_id=unique("sim"))
    bindings = read_bindings(scene.bindings_file)
    return publish_shard(bindings, settings, seed=scene.simulator.seed, rate=RATE, scenario=scenario, duration=seconds)


@asynccontextmanager
async def live_scene(
    db_url: str, broker: BrokerInfo, scene: Scene, home: Path, client_id: str
) -> AsyncIterator[tuple[Ingest, RuleEngine, list[RegistryEvent]]]:
    """Run the ingest with the scene's profiles and the rule engine the server starts (its scene's rules)."""
    bus, seen = EventBus(), []
    bus.subscribe(lambda e: seen.append(e) if e.kind == "alarm" else None)
    config = IngestConfig(
        broker=BrokerSettings(
            broker.host, broker.port, **broker.login, client_id=client_id, reconnect_min_s=1, reconnect_max_s=1
        ),
        profiles=load_profiles([ROOT / "scenes" / "profiles"]),
        database_url=db_url,
        spool_dir=home / "spool",
        state_flush_s=0.2,
        health_tick_s=0.2,
    )
    engine = make_engine(db_url)
    try:
        async with running(config, db_url, events=bus) as ingest:
            rules = await start_rules(ingest, engine, [scene.root], bus)
            try:
                yield ingest, rules, seen
            finally:
                await rules.stop()
    finally:
        engine.dispose()


def alarm_rows(db_url: str) -> list[tuple[Any, ...]]:
    """Return (rule, subject, state, severity, device floor, parent rule, parent subject) of every alarm."""
    return query(
        db_url,
        "SELECT a.rule, a.subject, a.state, a.severity, d.floor_id, p.rule, p.subject FROM alarms a "
        "LEFT JOIN devices d ON d.id = a.device_id LEFT JOIN alarms p ON p.id = a.parent_id "
        "ORDER BY a.rule, a.subject",
    )


async def in_thread(scene: Scene, broker: BrokerInfo, scenario: str, seconds: float) -> asyncio.Task[SimulateReport]:
    """Start the simulator on a thread beside the event loop the ingest runs on."""
    return asyncio.create_task(asyncio.to_thread(simulate, scene, broker, scenario, seconds))
