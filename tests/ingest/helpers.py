"""Builders for the ingest tests: a profile per test, a small graph, a publisher, a running ingest."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from realtime.ingest import Ingest, IngestConfig
from realtime.mqtt import BrokerSettings, PahoTransport
from realtime.profiles import load_profile
from realtime.specs import Profile
from tests.conftest import BrokerInfo
from twin.catalogue import DeviceKind, RelationKind
from twin.graph.devices import add_relation, create_device
from twin.graph.places import create_building, create_floor, create_site, create_space
from twin.schemas import (
    BuildingCreate,
    DeviceCreate,
    FloorCreate,
    Identifier,
    RelationCreate,
    SiteCreate,
    SpaceCreate,
)
from twin.store.engine import make_engine, session_factory

_ids = itertools.count()

PROFILE = """
[profile]
name = "{name}"
namespace = "{name}"

[[availability]]
topic = "{name}/{{device}}/availability"
format = "text"

[[message]]
topic = "{name}/{{gateway}}/{{device}}"
via = "{{gateway}}"
time = "ts"
time_format = "epoch_ms"

[[message.reading]]
path = "temperature"
quantity = "temperature"
unit = "°C"

[[message.reading]]
path = "humidity"
quantity = "humidity"

[[message.reading]]
path = "door"
quantity = "door_open"

[[message.reading]]
path = "state"
quantity = "state"
"""


def unique(prefix: str) -> str:
    """Return a name no other test uses (the broker is shared by the whole session)."""
    return f"{prefix}{next(_ids)}x{int(time.time() * 1000) % 100000}"


def write_profile(directory: Path) -> Profile:
    """Write a test profile with its own topic prefix and return it loaded."""
    name = unique("t")
    path = directory / f"{name}.toml"
    path.write_text(PROFILE.format(name=name))
    return load_profile(path)


def conninfo(db_url: str) -> str:
    """Return the libpq connection string of a test database."""
    url = make_url(db_url)
    return f"host={url.host} port={url.port} user={url.username} password={url.password} dbname={url.database}"


def query(db_url: str, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    """Run one query against the test database, outside the application."""
    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


@dataclass
class Graph:
    """Ids of a small community: one site, building 3, floor 18 with unit 3-2-1801, devices by name."""

    site: int = 0
    building: int = 0
    floor: int = 0
    unit: int = 0
    devices: dict[str, int] = field(default_factory=dict)


def build_graph(db_url: str) -> Graph:
    """Create the community as the system would (no caller, so no scope)."""
    g = Graph()
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            g.site = create_site(session, SiteCreate(name="金色年华", origin_lat=25.07, origin_lon=102.72)).id
            g.building = create_building(session, BuildingCreate(site_id=g.site, name="3栋", code="3")).id
            g.floor = create_floor(
                session, FloorCreate(building_id=g.building, name="18F", level=18, elevation=51.0)
            ).id
            g.unit = create_space(
                session, SpaceCreate(floor_id=g.floor, name="1801室", kind="unit", address="3-2-1801")
            ).id
    finally:
        engine.dispose()
    return g


def add_device(
    db_url: str,
    g: Graph,
    name: str,
    kind: DeviceKind,
    identity: tuple[str, str] | None,
    properties: dict[str, Any] | None = None,
    via: int | None = None,
) -> int:
    """Place a device in the unit, bound to an MQTT identity, maybe behind a gateway."""
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            idents = [Identifier(namespace=identity[0], value=identity[1])] if identity else []
            device = create_device(
                session,
                DeviceCreate(place_id=g.unit, kind=kind, name=name, properties=properties or {}, identifiers=idents),
            )
            if via is not None:
                add_relation(
                    session,
                    RelationCreate(kind=RelationKind.VIA, source_device_id=device.id, target_device_id=via),
                )
            g.devices[name] = device.id
            return device.id
    finally:
        engine.dispose()


class Publisher:
    """A plain paho publisher at QoS 1, as a device or gateway would be (the simulator's credential by default)."""

    def __init__(self, broker: BrokerInfo, login: dict[str, str] | None = None) -> None:
        self.transport = PahoTransport(
            BrokerSettings(
                broker.host,
                broker.port,
                **(login or broker.simulator),
                client_id=unique("pub"),
                reconnect_min_s=1,
                reconnect_max_s=1,
            )
        )
        self.transport.start(lambda message, token: None)

    def send(self, topic: str, payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.transport.publish(topic, data, 1, False)

    def flush(self, timeout: float = 60.0) -> None:
        assert self.transport.wait_published(timeout), "the broker never acknowledged every publication"

    def close(self) -> None:
        self.transport.stop()


def ingest_config(
    db_url: str, broker: BrokerInfo, profile: Profile, home: Path, client_id: str, **options: Any
) -> IngestConfig:
    """Return an ingest configuration with short intervals, so tests see effects in a second."""
    defaults: dict[str, Any] = {"state_flush_s": 0.2, "health_tick_s": 0.2, "spill_after_s": 2.0}
    defaults.update(options)
    return IngestConfig(
        broker=BrokerSettings(
            broker.host, broker.port, **broker.login, client_id=client_id, reconnect_min_s=1, reconnect_max_s=1
        ),
        profiles=[profile],
        database_url=db_url,
        spool_dir=home / "spool",
        **defaults,
    )


@asynccontextmanager
async def running(config: IngestConfig, db_url: str, **kwargs: Any) -> AsyncIterator[Ingest]:
    """Run an ingest for the body of a ``with``, waiting until the broker accepted its subscriptions."""
    engine = make_engine(db_url)
    ingest = Ingest(config, engine, **kwargs)
    await ingest.start()
    try:
        await until(ingest.broker_connected, "the ingest never connected")
        await asyncio.sleep(0.3)  # the SUBACK comes back before anyone publishes
        yield ingest
    finally:
        await ingest.stop()
        engine.dispose()


async def until(check: Callable[[], Any], message: str, limit: float = 60.0) -> Any:
    """Wait until ``check()`` is truthy (polling); fail with ``message`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)


def epoch_ms(at: datetime) -> int:
    """Return a time as epoch milliseconds, as devices send it."""
    return int(at.timestamp() * 1000)
