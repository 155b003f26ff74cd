"""Processes of the ingest benchmark: publishers, the bare paho subscriber, and the ingest under test.

Each runs in its own process (spawned, not forked), so that the CPU each one uses is its own and
no one's GIL slows another's. Each logs in with the ``Login`` it is handed (bench/logins.py):
publishers as the simulator, the bare subscriber and the ingest alike as the twin.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.logins import Login

PROFILE = """
[profile]
name = "bench"
namespace = "bench"

[[message]]
topic = "bench/{gateway}/{device}"
via = "{gateway}"
time = "ts"
time_format = "epoch_ms"

[[message.reading]]
path = "temperature"
quantity = "temperature"
unit = "°C"

[[message.reading]]
path = "humidity"
quantity = "humidity"
"""


def cpu_seconds() -> float:
    """Return this process's CPU time, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def topic_of(device: int) -> str:
    return f"bench/gw{device % 16}/d{device}"


def publish_paced(
    client_id: str, host: str, port: int, login: Login, count: int, rate: float | None, message: Any
) -> None:
    """Publish ``count`` QoS 1 messages ``message(i) -> (topic, body)`` at ``rate`` per second (or flat out)."""
    client = login.apply(
        paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    started = time.monotonic()
    infos = []
    for i in range(count):
        topic, body = message(i)
        infos.append(client.publish(topic, body, qos=1))
        if rate is not None and i % 20 == 19:
            ahead = (i + 1) / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def publish(
    host: str, port: int, login: Login, devices: int, first: int, count: int, rate: float | None, done: Queue[int]
) -> None:
    """Publish ``count`` QoS 1 messages, round-robin over devices, at ``rate`` per second or flat out."""
    base = int(time.time() * 1000)

    def message(i: int) -> tuple[str, bytes]:
        n = first + i
        body = orjson.dumps({"temperature": 20 + n % 100 / 10, "humidity": 40 + n % 50, "ts": base + n})
        return topic_of(n % devices), body

    publish_paced(f"bench-pub-{os.getpid()}", host, port, login, count, rate, message)
    done.put(count)


def _session(client_id: str, login: Login) -> tuple[paho.Client, Properties]:
    client = login.apply(
        paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    )
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    return client, props


def bare_subscriber(
    host: str, port: int, login: Login, client_id: str, expected: int, results: Queue[dict[str, float]]
) -> None:
    """Receive at QoS 1 in a persistent session and only decode the JSON; report time and CPU to the last one."""
    client, props = _session(client_id, login)
    count = 0
    finished: list[float] = []

    def on_message(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        nonlocal count
        orjson.loads(message.payload)
        count += 1
        if count == expected:
            finished.append(time.monotonic())

    def on_connect(c: paho.Client, *args: Any) -> None:
        c.subscribe("bench/#", qos=1)

    client.on_message = on_message
    client.on_connect = on_connect
    cpu, start = cpu_seconds(), time.monotonic()
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    while not finished and time.monotonic() - start < 600:
        time.sleep(0.01)
    elapsed, used = (finished[0] if finished else time.monotonic()) - start, cpu_seconds() - cpu
    client.disconnect()
    client.loop_stop()
    results.put({"messages": count, "seconds": elapsed, "cpu": used})


def subscribe_only(host: str, port: int, login: Login, client_id: str) -> None:
    """Open a persistent session with the bench subscription, then leave: the broker queues for it."""
    client, props = _session(client_id, login)
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    info = client.subscribe("bench/#", qos=1)
    time.sleep(0.5)
    assert info[0] == paho.MQTT_ERR_SUCCESS
    client.disconnect()
    client.loop_stop()


def drop_session(host: str, port: int, login: Login, client_id: str) -> None:
    """End a persistent session, so that it stops collecting the next phase's messages."""
    client = login.apply(
        paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    )
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.connect(host, port, clean_start=True, properties=props)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


@dataclass(frozen=True)
class IngestRun:
    """What the ingest process is asked to do."""

    host: str
    port: int
    login: Login
    """The twin's credential, which the ingest logs in with as ``twin serve`` does."""
    database_url: str
    home: str
    expected_rows: int
    mode: str
    """``prepare`` (open the session and leave), ``drain`` (take what waits) or ``live`` (run until told)."""


def ingest_process(run: IngestRun, results: Queue[dict[str, Any]]) -> None:
    """Run the real ingest until every expected history row is committed; report time, CPU and latency."""
    from sqlalchemy import create_engine

    from realtime.ingest import Ingest, IngestConfig
    from realtime.mqtt import BrokerSettings
    from realtime.profiles import load_profile

    path = Path(run.home) / "bench.toml"
    path.write_text(PROFILE)
    config = IngestConfig(
        broker=BrokerSettings(run.host, run.port, client_id="bench-ingest", **run.login.settings),
        profiles=[load_profile(path)],
        database_url=run.database_url,
        spool_dir=Path(run.home) / "spool",
        spill_after_s=30.0,
    )
    engine = create_engine(run.database_url)

    async def main() -> dict[str, Any]:
        ingest = Ingest(config, engine)
        cpu, start = cpu_seconds(), time.monotonic()
        await ingest.start()
        if run.mode == "prepare":
            await asyncio.sleep(0.5)
            await ingest.stop()
            return {}
        if run.mode == "live":
            results.put({"ready": True})
        while ingest.counts.written + ingest.counts.duplicates < run.expected_rows:
            if time.monotonic() - start > 900:
                break
            await asyncio.sleep(0.02)
        elapsed, used = time.monotonic() - start, cpu_seconds() - cpu
        latencies = sorted(ingest.queue.latencies)
        counts = ingest.status()["counts"]
        await ingest.stop()
        return {"seconds": elapsed, "cpu": used, "latencies": latencies, "counts": counts}

    try:
        results.put(asyncio.run(main()))
    finally:
        engine.dispose()


def stamp() -> str:
    """Return the time now, for the table's caption."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
