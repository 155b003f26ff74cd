"""Nothing lost: a broker restarting mid-stream, PostgreSQL away mid-stream, the ingest restarting."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

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
from twin.services import PostgresCluster

pytestmark = pytest.mark.slow


def history_count(db_url: str, device_id: int) -> int:
    return int(query(db_url, "SELECT count(*) FROM readings WHERE device_id = %s", (device_id,))[0][0])


def payloads(count: int, start: datetime) -> list[bytes]:
    """One reading per message, each with its own timestamp, so every one is a distinct history row."""
    return [
        orjson.dumps({"temperature": 20 + i % 50, "ts": epoch_ms(start + timedelta(milliseconds=10 * i))})
        for i in range(count)
    ]


def test_no_qos1_reading_lost_when_the_broker_restarts_mid_stream(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    messages = payloads(3000, datetime.now(UTC) - timedelta(minutes=5))
    publisher = Publisher(mqtt_broker)

    def publish_steadily() -> None:
        for start in range(0, len(messages), 50):
            for body in messages[start : start + 50]:
                publisher.send(f"{profile.name}/gw/s1", body)
            time.sleep(0.02)

    def restart_broker() -> None:
        time.sleep(0.4)
        mqtt_broker.broker.stop()  # SIGTERM: Mosquitto saves sessions and their queued messages
        time.sleep(1.0)
        mqtt_broker.broker.start()

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            threads = [threading.Thread(target=publish_steadily), threading.Thread(target=restart_broker)]
            for thread in threads:
                thread.start()
            try:
                await until(lambda: history_count(db_url, sensor) == len(messages), "readings were lost", 120)
            finally:
                for thread in threads:
                    thread.join()
            assert ingest.transport.connects >= 2, "the broker restart was not noticed"  # type: ignore[attr-defined]

    try:
        asyncio.run(run())
    finally:
        publisher.close()
    assert history_count(db_url, sensor) == len(messages)


def test_a_killed_broker_that_lost_its_sessions_gets_our_subscriptions_again(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    """SIGKILL, and the broker's saved sessions gone with it: only our resubscription on reconnect makes
    the readings published after the restart arrive; what the ingest had received before is all written.

    A killed Mosquitto loses what it accepted since its last autosave, so messages in flight at the kill
    are the broker's to lose (docs/ingest.md); this test proves our side of it."""
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    messages = payloads(1000, datetime.now(UTC) - timedelta(minutes=5))
    publisher = Publisher(mqtt_broker)

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"))
        async with running(config, db_url) as ingest:
            for body in messages[:500]:
                publisher.send(f"{profile.name}/gw/s1", body)
            await until(lambda: history_count(db_url, sensor) == 500, "the readings before the kill were not written")
            await asyncio.to_thread(mqtt_broker.broker.kill)
            (mqtt_broker.broker.home / "data" / "mosquitto.db").unlink(missing_ok=True)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(mqtt_broker.broker.start)
            transport = ingest.transport
            await until(lambda: transport.connects >= 2 and transport.connected, "the ingest never reconnected")  # type: ignore[attr-defined]
            await until(lambda: publisher.transport.connected, "the publisher never reconnected")
            await asyncio.sleep(0.5)  # the SUBACK of the resubscription comes back
            for body in messages[500:]:
                publisher.send(f"{profile.name}/gw/s1", body)
            await asyncio.to_thread(publisher.flush)
            await until(lambda: history_count(db_url, sensor) == 1000, "readings after the restart did not arrive")
            assert ingest.counts.written >= 1000

    try:
        asyncio.run(run())
    finally:
        publisher.close()


OUTAGE_S = 30.0
"""How long PostgreSQL stays away: long enough for the writer's probes, the pool and the spool to be
tested for real, not only a blip that a retry would hide."""


def test_readings_wait_on_disk_while_postgresql_is_away_and_are_all_written_after(
    db_url: str, postgis: PostgresCluster, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    messages = payloads(3500, datetime.now(UTC) - timedelta(minutes=5))
    during = messages[500:]
    publisher = Publisher(mqtt_broker)

    def publish_through_the_outage() -> None:
        """The stream goes on while PostgreSQL is away: a slice every second for the whole outage."""
        slices = int(OUTAGE_S)
        size = -(-len(during) // slices)
        for start in range(0, len(during), size):
            for body in during[start : start + size]:
                publisher.send(f"{profile.name}/gw/s1", body)
            time.sleep(1.0)

    async def run() -> None:
        config = ingest_config(db_url, mqtt_broker, profile, tmp_path, unique("ingest"), spill_after_s=0.5)
        async with running(config, db_url) as ingest:
            for body in messages[:500]:
                publisher.send(f"{profile.name}/gw/s1", body)
            await until(lambda: ingest.counts.written >= 100, "nothing was written before the outage")
            await asyncio.to_thread(postgis.stop)
            stopped = time.monotonic()
            try:
                stream = threading.Thread(target=publish_through_the_outage)
                stream.start()
                await asyncio.to_thread(stream.join)
                await asyncio.to_thread(publisher.flush)
                await until(lambda: ingest.counts.decoded == len(messages), "intake stopped with the database")
                latest = ingest.state.get(sensor, "temperature")
                assert latest is not None and latest.time == datetime.fromtimestamp(
                    orjson.loads(messages[-1])["ts"] / 1000, UTC
                ), "the latest state must keep updating while the database is away"
                assert not ingest.queue.database_up and ingest.counts.spilled > 0
                await until(lambda: ingest.queue.waiting_rows == 0, "readings stayed in memory instead of the spool")
                await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
                assert not ingest.queue.database_up, "the database came back by itself"
            finally:
                await asyncio.to_thread(postgis.start)
            await until(lambda: history_count(db_url, sensor) == len(messages), "spilled readings were lost", 120)
            await until(lambda: not list((tmp_path / "spool").glob("*.spool")), "the spool was not emptied")
            assert ingest.queue.database_up and ingest.counts.replayed > 0

    try:
        asyncio.run(run())
    finally:
        publisher.close()
        postgis.start()


def test_a_restarted_ingest_resumes_its_persistent_session(
    db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    profile = write_profile(tmp_path)
    sensor = add_device(db_url, build_graph(db_url), "传感器", DeviceKind.ENV_SENSOR, (profile.namespace, "s1"))
    messages = payloads(600, datetime.now(UTC) - timedelta(minutes=5))
    client_id = unique("ingest")
    config = ingest_config(db_url, mqtt_broker, profile, tmp_path, client_id)
    publisher = Publisher(mqtt_broker)

    async def first_run() -> None:
        async with running(config, db_url):
            for body in messages[:300]:
                publisher.send(f"{profile.name}/gw/s1", body)
            await until(lambda: history_count(db_url, sensor) == 300, "the first half was not written")

    async def second_run() -> None:
        async with running(config, db_url) as ingest:
            await until(lambda: history_count(db_url, sensor) == 600, "what came while away was lost")
            assert ingest.counts.decoded >= 300

    try:
        asyncio.run(first_run())
        for body in messages[300:]:  # the ingest is down: the broker keeps these for its session
            publisher.send(f"{profile.name}/gw/s1", body)
        publisher.flush()
        asyncio.run(second_run())
    finally:
        publisher.close()
