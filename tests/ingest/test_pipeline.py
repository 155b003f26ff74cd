"""Readings from a real Mosquitto into a real PostGIS: state, history, health and the discovered list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from realtime.bindings import HEALTH_EVENT
from tests.conftest import BrokerInfo
from tests.ingest.helpers import (
    Publisher,
    add_device,
    build_graph,
    epoch_ms,
    ingest_config,
    query,
    running,
    unique,
    until,
    write_profile,
)
from twin.catalogue import DeviceKind
from twin.events import EventBus, RegistryEvent


def test_readings_become_latest_state_and_history(db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    graph = build_graph(db_url)
    sensor = add_device(db_url, graph, "温湿度", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    start = datetime.now(UTC) - timedelta(minutes=10)
    publisher = Publisher(mqtt_broker)

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            for i in range(300):
                at = epoch_ms(start + timedelta(seconds=i))
                body = {"temperature": round(20 + i / 100, 2), "humidity": 40 + i % 10, "door": i % 2 == 0, "ts": at}
                publisher.send(f"{profile.name}/gw1/s1", orjson.dumps(body))
            await asyncio.to_thread(publisher.flush)
            await until(
                lambda: query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (sensor,))[0][0] == 900,
                "not every reading reached history",
            )
            latest = ingest.state.get(sensor, "temperature")
            assert latest is not None and latest.value == 22.99
            await until(
                lambda: query(db_url, "SELECT count(*) FROM device_state WHERE device_id = %s", (sensor,))[0][0] == 3,
                "the latest state was not flushed",
            )
            assert ingest.counts.written == 900 and ingest.counts.unknown == 0

    try:
        asyncio.run(run())
    finally:
        publisher.close()
    rows = dict(
        (q, (v, f, u))
        for q, v, f, u in query(
            db_url, "SELECT quantity, value, flag, unit FROM device_state WHERE device_id = %s", (sensor,)
        )
    )
    assert rows == {"temperature": (22.99, None, "°C"), "humidity": (49.0, None, "%"), "door_open": (None, False, "")}
    health, last_seen = query(db_url, "SELECT health, last_seen FROM devices WHERE id = %s", (sensor,))[0]
    assert health == "online" and last_seen is not None
    door = query(db_url, "SELECT avg(value) FROM readings WHERE device_id = %s AND quantity = 'door_open'", (sensor,))[
        0
    ][0]
    assert door == 0.5, "booleans are stored as 0/1, so their average is the fraction of time true"


def test_unknown_identities_are_discovered_with_their_address_hint(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    build_graph(db_url)
    publisher = Publisher(mqtt_broker)

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            publisher.send(f"{profile.name}/gw1/3-2-1801_temp", orjson.dumps({"temperature": 21.5}))
            publisher.send(f"{profile.name}/gw1/3-2-1801_temp", orjson.dumps({"temperature": 21.7}))
            publisher.send(f"{profile.name}/gw1/no-address", orjson.dumps({"humidity": 30}))
            await until(
                lambda: query(db_url, "SELECT count(*) FROM discovered_identities")[0][0] == 2,
                "the unknown identities were not listed",
            )
            assert ingest.counts.unknown == 3 and ingest.counts.written == 0

    try:
        asyncio.run(run())
    finally:
        publisher.close()
    [(messages, latest, hint)] = query(
        db_url, "SELECT messages, latest, hint FROM discovered_identities WHERE value = '3-2-1801_temp'"
    )
    assert messages == 2 and latest["temperature"]["value"] == 21.7
    assert hint["address"] == "3-2-1801" and hint["label"] == "3栋2单元1801室"


def test_health_follows_silence_and_gateways_and_is_announced(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    graph = build_graph(db_url)
    ns = profile.namespace
    gateway = add_device(db_url, graph, "网关", DeviceKind.GATEWAY, (ns, "gw1"))
    child = add_device(db_url, graph, "水浸", DeviceKind.LEAK_SENSOR, (ns, "c1"), via=gateway)
    quick = add_device(db_url, graph, "水泵", DeviceKind.WATER_PUMP, (ns, "p1"), {"expected_interval_s": 0.5})
    events: list[RegistryEvent] = []
    bus = EventBus()
    bus.subscribe(lambda e: events.append(e) if e.kind == HEALTH_EVENT else None)
    publisher = Publisher(mqtt_broker)

    def health(device_id: int) -> str:
        return str(query(db_url, "SELECT health FROM devices WHERE id = %s", (device_id,))[0][0])

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url, events=bus):
            publisher.send(f"{ns}/gw1/availability", "online")
            publisher.send(f"{ns}/gw1/c1", orjson.dumps({"temperature": 20}))
            publisher.send(f"{ns}/gw1/p1", orjson.dumps({"temperature": 30}))
            await until(lambda: health(child) == "online" and health(gateway) == "online", "never online")
            await until(lambda: health(quick) == "offline", "a silent pump was never called offline")
            publisher.send(f"{ns}/gw1/availability", "offline")
            await until(lambda: health(child) == "unreachable", "the child of an offline gateway was not unreachable")
            assert health(gateway) == "offline"
            publisher.send(f"{ns}/gw1/availability", "online")
            await until(lambda: health(child) == "online", "the child did not come back with its gateway")

    try:
        asyncio.run(run())
    finally:
        publisher.close()
    pump = [e.data["health"] for e in events if e.id == quick]
    assert pump[:1] == ["online"] and "offline" in pump
    kid = [e.data["health"] for e in events if e.id == child]
    assert kid == ["online", "unreachable", "online"]
    assert events[0].path[0] == f"site:{graph.site}" and events[0].path[-1].startswith("device:")


def test_bad_input_through_the_broker_is_rejected_counted_sampled_and_the_stream_goes_on(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    """Each bad payload of issue 7, between good readings of the same device: every good reading is
    written, every bad one counted under its profile and reason with a sample, none stops the pipeline."""
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    now = datetime.now(UTC)
    good_at = now - timedelta(minutes=5)
    bad: dict[str, bytes] = {
        "malformed_json": b'{"temperature": 21',
        "wrong_type": orjson.dumps({"temperature": [21], "ts": epoch_ms(now)}),
        "not_finite": orjson.dumps({"temperature": "Infinity", "ts": epoch_ms(now)}),
        "out_of_range": orjson.dumps({"temperature": 999, "ts": epoch_ms(now)}),
        "too_large": b'{"temperature": 21, "pad": "' + b"x" * (1 << 20) + b'"}',
        "invalid_utf8": b'\xff{"temperature": 21}',
        "future_timestamp": orjson.dumps({"temperature": 21, "ts": epoch_ms(now + timedelta(hours=1))}),
        "old_timestamp": orjson.dumps({"temperature": 21, "ts": epoch_ms(now - timedelta(days=365 * 30))}),
    }
    topic = f"{profile.name}/gw1/s1"
    publisher = Publisher(mqtt_broker)

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            for i, payload in enumerate(bad.values()):
                publisher.send(
                    topic, orjson.dumps({"temperature": 20 + i, "ts": epoch_ms(good_at + timedelta(seconds=i))})
                )
                publisher.send(topic, payload)
            publisher.send(topic, orjson.dumps({"temperature": 30, "ts": epoch_ms(good_at + timedelta(minutes=1))}))
            await asyncio.to_thread(publisher.flush)
            good = len(bad) + 1
            await until(
                lambda: query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (sensor,))[0][0] == good,
                "good readings between bad ones were not all written",
            )
            counters = ingest.decoder.counters.as_dict()[profile.name]
            assert counters["received"] == good + len(bad) and counters["rejects"] == dict.fromkeys(sorted(bad), 1)
            samples = ingest.rejects.as_dict()[profile.name]
            assert sorted(samples) == sorted(bad)
            for reason, payload in bad.items():
                [sample] = samples[reason]
                assert sample["topic"] == topic and sample["detail"], reason
                assert sample["payload"] == payload[:512].decode("utf-8", errors="backslashreplace"), reason
            latest = ingest.state.get(sensor, "temperature")
            assert latest is not None and latest.value == 30.0

    try:
        asyncio.run(run())
    finally:
        publisher.close()
