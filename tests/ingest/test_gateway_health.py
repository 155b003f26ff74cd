"""A gateway is heard on its own and through what it relays; while it is down its devices are unreachable
and its one alarm holds theirs. First with explicit times (no waiting), then through a real Mosquitto,
the real ingest, the rule engine and PostGIS, with intervals and hold times shrunk to a second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from realtime.bindings import Bound
from realtime.health import HealthTracker
from realtime.ingest import Ingest
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from tests.alarms.live import sync
from tests.conftest import BrokerInfo
from tests.ingest.helpers import (
    Graph,
    Publisher,
    add_device,
    build_graph,
    ingest_config,
    query,
    running,
    unique,
    until,
    write_profile,
)
from twin.alarms.rules import device_rule, rule_set
from twin.catalogue import DeviceHealth, DeviceKind
from twin.store.engine import make_engine

T0 = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
H = DeviceHealth


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def bound(device_id: int, kind: str = "env_sensor", interval: float = 60.0, via: int | None = None) -> Bound:
    return Bound(device_id, kind, "1.2.3", interval, via, "unknown", None)


# -- the tracker, with explicit times ----------------------------------------------------------------


def test_a_gateway_that_only_relays_stays_online_and_goes_offline_with_its_devices() -> None:
    tracker = HealthTracker()
    gateway = bound(10, "gateway", 60)
    children = [bound(11, "pressure_sensor", 60, via=10), bound(12, "water_meter", 900, via=10)]
    for second in range(0, 601, 30):  # ten minutes: ten of its intervals, not a word of its own
        for child in children:
            tracker.seen(child, at(second), via=gateway)
        assert tracker.tick(at(second + 1)) == []
    assert tracker.nodes[10].health is H.ONLINE and tracker.nodes[10].last_seen == at(600)
    # Then it goes quiet with everything behind it: it is offline, they are unreachable, gateway first.
    changes = [(c.device.device_id, c.health) for c in tracker.tick(at(600 + 181))]
    assert changes == [(10, H.OFFLINE), (11, H.UNREACHABLE), (12, H.UNREACHABLE)]
    # The first message it relays again brings it and all its devices back.
    back = {c.device.device_id: c.health for c in tracker.seen(children[1], at(900), via=gateway)}
    assert back == {10: H.ONLINE, 11: H.ONLINE, 12: H.ONLINE}


def test_a_message_relayed_after_the_last_will_undoes_it_one_received_before_does_not() -> None:
    tracker = HealthTracker()
    gateway, child = bound(10, "gateway"), bound(11, via=10)
    tracker.seen(child, at(0), via=gateway)
    offline = {c.device.device_id: c.health for c in tracker.availability(gateway, False, at(10))}
    assert offline == {10: H.OFFLINE, 11: H.UNREACHABLE}
    assert not tracker.seen(child, at(9), via=gateway)  # in flight when the will was published
    assert tracker.nodes[10].health is H.OFFLINE
    back = {c.device.device_id: c.health for c in tracker.seen(child, at(11), via=gateway)}
    assert back == {10: H.ONLINE, 11: H.ONLINE}


def test_an_unbound_gateway_is_judged_by_what_it_relays() -> None:
    tracker = HealthTracker()
    child = bound(11, interval=3600)  # a sleepy sensor: its own silence would take hours
    bridge = ("zigbee2mqtt", "bridge")
    tracker.seen(child, at(0), via=bridge)
    for second in range(30, 600, 30):
        assert not tracker.relayed(bridge, at(second))  # an unbound device's message through it
    assert tracker.tick(at(600)) == []
    [unreachable] = tracker.tick(at(570 + 181))
    assert unreachable.device.device_id == 11 and unreachable.health is H.UNREACHABLE
    [back] = tracker.relayed(bridge, at(800))
    assert back.health is H.ONLINE


def test_the_devices_of_a_gateway_that_returns_are_judged_from_its_return() -> None:
    tracker = HealthTracker()
    gateway, pump = bound(10, "gateway", 3600), bound(11, "water_pump", 60, via=10)
    tracker.seen(pump, at(0), via=gateway)
    tracker.availability(gateway, False, at(5))
    [back, pump_back] = tracker.availability(gateway, True, at(3600))
    assert (back.health, pump_back.health) == (H.ONLINE, H.ONLINE)
    [stale] = tracker.tick(at(3600 + 91))
    assert stale.device.device_id == 11 and stale.health is H.STALE  # the gateway says online meanwhile


# -- live: Mosquitto, the ingest, the rule engine, PostGIS ------------------------------------------

GATEWAY_RULE, DEVICE_RULE = "gateway offline", "device offline"
RULES = [
    {"name": GATEWAY_RULE, "kind": "gateway", "condition": "offline", "severity": "major", "for_s": 1.0},
    # Shorter than the gateway's: the devices' alarms must still wait for the gateway's, and group under it.
    {"name": DEVICE_RULE, "kind": "*", "condition": "offline", "severity": "minor", "for_s": 0.2},
]
SENSORS = 3


@dataclass
class Site:
    """A gateway expected every second (offline after 3 s of silence) with sensors expected every 4 s behind it."""

    graph: Graph
    namespace: str

    def id(self, name: str) -> int:
        return self.graph.devices[name]

    def reading(self, sensor: int) -> tuple[str, str]:
        payload = {"ts": int(time.time() * 1000), "temperature": 20.0 + sensor}
        return f"{self.namespace}/gw/s{sensor}", json.dumps(payload)

    def availability(self) -> str:
        return f"{self.namespace}/gw/availability"


def build_site(db_url: str, namespace: str) -> Site:
    g = build_graph(db_url)
    gw = add_device(db_url, g, "GW", DeviceKind.GATEWAY, (namespace, "gw"), {"expected_interval_s": 1})
    for i in range(SENSORS):
        add_device(db_url, g, f"S{i}", DeviceKind.ENV_SENSOR, (namespace, f"s{i}"), {"expected_interval_s": 4}, via=gw)
    return Site(g, namespace)


@asynccontextmanager
async def live(db_url: str, broker: BrokerInfo, tmp_path: Path) -> AsyncIterator[tuple[Site, Ingest, list[str]]]:
    """Run an ingest with a rule engine on a fresh site; yield the site, the ingest and the gateway's health changes."""
    profile = write_profile(tmp_path)
    site = build_site(db_url, profile.namespace)
    vocab = vocabulary()
    rules = rule_set([device_rule(r, vocab) for r in RULES], [])
    engine = make_engine(db_url)
    gateway_health: list[str] = []
    try:
        async with running(ingest_config(db_url, broker, profile, tmp_path, unique("ing")), db_url) as ingest:
            rule_engine = RuleEngine(rules, engine, lambda i: ingest.bindings.table.devices.get(i), tick_s=0.1)
            await rule_engine.start()
            ingest.health_listeners.append(rule_engine.health)
            ingest.health_listeners.append(
                lambda changes: gateway_health.extend(
                    c.health.value for c in changes if c.device.device_id == site.id("GW")
                )
            )
            try:
                yield site, ingest, gateway_health
            finally:
                await rule_engine.stop()
    finally:
        engine.dispose()


def health(ingest: Ingest, site: Site) -> dict[str, str | None]:
    names = ["GW", *(f"S{i}" for i in range(SENSORS))]
    return {name: (ingest.health_of(site.id(name)) or (None, None))[0] for name in names}


def alarm_rows(db_url: str) -> list[tuple[Any, ...]]:
    """Return (rule, device id, state, parent's device id) of every alarm."""
    return query(
        db_url,
        "SELECT a.rule, a.device_id, a.state, p.device_id FROM alarms a "
        "LEFT JOIN alarms p ON p.id = a.parent_id ORDER BY a.rule, a.device_id",
    )


def grouped(site: Site, state: str) -> list[tuple[Any, ...]]:
    """The alarms expected: one root for the gateway, each sensor's under it."""
    gw = site.id("GW")
    children = [(DEVICE_RULE, site.id(f"S{i}"), state, gw) for i in range(SENSORS)]
    return [*children, (GATEWAY_RULE, gw, state, None)]


async def report(pub: Publisher, site: Site, seconds: float, every: float = 0.25) -> None:
    """Let every sensor report through the gateway for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i in range(SENSORS):
            pub.send(*site.reading(i))
        await asyncio.sleep(every)
    pub.flush()


@sync
async def test_a_gateway_whose_devices_report_through_it_stays_online_without_a_word_of_its_own(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, tmp_path) as (site, ingest, gateway_health):
            await report(pub, site, 6.0)  # six of its intervals, twice its offline threshold
            assert health(ingest, site) == {"GW": "online", "S0": "online", "S1": "online", "S2": "online"}
            assert gateway_health == ["online"]
            await until(
                lambda: query(db_url, "SELECT health FROM devices WHERE id = %s", (site.id("GW"),)) == [("online",)],
                "the gateway's health was not flushed",
            )
        assert alarm_rows(db_url) == []
    finally:
        pub.close()


def last_will_client(broker: BrokerInfo, topic: str) -> paho.Client:
    """Connect as a gateway does: its own connection, with a last will that says offline."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=unique("gw"))
    client.username_pw_set(broker.simulator["username"], broker.simulator["password"])
    client.will_set(topic, b"offline", qos=1)
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    client.publish(topic, b"online", qos=1).wait_for_publish(10)
    return client


def die(client: paho.Client) -> None:
    """Drop the connection without a DISCONNECT, as a gateway losing power does: the broker sends its will."""
    client.loop_stop()
    sock = client.socket()
    assert sock is not None
    sock.close()


@sync
async def test_a_gateway_whose_last_will_says_offline_raises_one_alarm_with_its_devices_under_it(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, tmp_path) as (site, ingest, _):
            gateway = last_will_client(mqtt_broker, site.availability())
            await report(pub, site, 1.0)
            die(gateway)
            await until(
                lambda: (
                    health(ingest, site)
                    == {"GW": "offline", "S0": "unreachable", "S1": "unreachable", "S2": "unreachable"}
                ),
                "the last will did not make the gateway offline and its devices unreachable",
            )
            await until(lambda: alarm_rows(db_url) == grouped(site, "raised"), "not one root with three children")
            await asyncio.sleep(1.0)
            assert alarm_rows(db_url) == grouped(site, "raised")  # nothing more, once settled
            # It comes back: its own 'online', then its devices' readings.
            gateway = last_will_client(mqtt_broker, site.availability())
            await report(pub, site, 0.5)
            await until(
                lambda: set(health(ingest, site).values()) == {"online"}, "the gateway and its devices are not back"
            )
            await until(lambda: alarm_rows(db_url) == grouped(site, "cleared"), "the alarms did not clear")
            gateway.disconnect()
            gateway.loop_stop()
    finally:
        pub.close()


@sync
async def test_a_gateway_silent_with_its_devices_is_offline_and_the_first_relayed_message_brings_all_back(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    pub = Publisher(mqtt_broker)
    try:
        async with live(db_url, mqtt_broker, tmp_path) as (site, ingest, gateway_health):
            await report(pub, site, 1.0)
            await until(
                lambda: (
                    health(ingest, site)
                    == {"GW": "offline", "S0": "unreachable", "S1": "unreachable", "S2": "unreachable"}
                ),
                "the gateway's silence did not make it offline and its devices unreachable",
            )
            await until(lambda: alarm_rows(db_url) == grouped(site, "raised"), "not one root with three children")
            pub.send(*site.reading(0))
            pub.flush()
            await until(
                lambda: set(health(ingest, site).values()) == {"online"}, "one relayed message did not bring all back"
            )
            await until(lambda: alarm_rows(db_url) == grouped(site, "cleared"), "the alarms did not clear")
            assert gateway_health[-1] == "online" and "offline" in gateway_health
    finally:
        pub.close()
