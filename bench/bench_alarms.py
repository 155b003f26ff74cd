"""From the MQTT message that crosses a threshold to the committed alarm, under background load;
and what judging a reading costs, with today's rule keys and with the noise controls.

    python bench/bench_alarms.py [--devices 1000 --rate 2500 --seconds 20] [--cost-only]

Judging cost first (``bench/rule_cost.py``: ``RuleEngine.readings`` in memory, no database), each
pair of rule sets on the same readings, with the ratio; the goal is ≤ 1.2× today's keys.

Background: ``--rate`` messages/s of two readings each (5,000 readings/s by default) from a
publisher process over ``--devices`` sensors, all below the threshold. Probe: one more sensor
alternates 60 °C and 20 °C every 250 ms; each 60 °C message raises (or re-opens) the alarm of the
rule "hot" (above 50 °C), and its latency runs from the publish call to the alarm event, which the
engine publishes after its commit. Baseline, same run, same broker and database: a bare paho
subscriber to the probe topic that commits one INSERT per message, from publish to that commit.
The broker takes no anonymous client: the publishers log in as the simulator, the ingest and the
bare subscriber alike as the twin.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ingest import CTX, make_devices
from bench.ingest_parts import PROFILE, publish, stamp
from bench.logins import Login, simulator, twin
from bench.rule_cost import Cost, measure
from bench.table import Row, report
from realtime.ingest import Ingest, IngestConfig
from realtime.mqtt import BrokerSettings
from realtime.profiles import load_profile
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from twin.alarms.rules import device_rule, rule_set
from twin.events import EventBus, RegistryEvent
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.system import free_port
from twin.store.engine import make_engine, session_factory, upgrade

PROBE_TOPIC = "bench/gw0/probe"
HOT = {"name": "hot", "kind": "env_sensor", "quantity": "temperature", "condition": "above", "threshold": 50,
       "clear_at": 40, "severity": "major", "flap_per_h": 0}  # fmt: skip
"""The probe flaps on purpose, twice a second: no flapping hold, or its re-opens would stop after six."""


def add_probe(url: str) -> None:
    """Bind one more sensor, the probe, beside the background ones."""
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO devices (site_id, place_id, floor_id, path, kind, name, properties, health) "
                "SELECT site_id, place_id, floor_id, path, kind, 'probe', '{}', 'unknown' FROM devices LIMIT 1"
            )
        )
        session.execute(
            text(
                "INSERT INTO identifiers (namespace, value, device_id) SELECT 'bench', 'probe', id FROM devices "
                "WHERE name = 'probe'"
            )  # fmt: skip
        )
    engine.dispose()


def probe(host: str, port: int, login: Login, seconds: float, sent: list[float], stop: threading.Event) -> None:
    """Alternate hot and cold probe readings; record the time of each hot publish."""
    client = login.apply(paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-probe"))
    client.connect(host, port)
    client.loop_start()
    end, hot = time.monotonic() + seconds, True
    while time.monotonic() < end and not stop.is_set():
        body = orjson.dumps({"temperature": 60.0 if hot else 20.0, "ts": int(time.time() * 1000)})
        if hot:
            sent.append(time.monotonic())
        client.publish(PROBE_TOPIC, body, qos=1).wait_for_publish(10)
        hot = not hot
        time.sleep(0.25)
    client.disconnect()
    client.loop_stop()


async def ours(url: str, broker: MosquittoBroker, home: Path, devices: int, rate: float, seconds: float) -> list[float]:
    """Run the ingest with the rule engine under load; return probe latencies in ms."""
    host, port, publisher = broker.host, broker.port, simulator(broker)
    path = home / "bench.toml"
    path.write_text(PROFILE)
    config = IngestConfig(
        broker=BrokerSettings(host, port, client_id="bench-alarms", **twin(broker).settings),
        profiles=[load_profile(path)],
        database_url=url,
        spool_dir=home / "spool",
    )
    engine = make_engine(url)
    bus, raised = EventBus(), []

    def on_alarm(event: RegistryEvent) -> None:
        if event.kind == "alarm" and event.data.get("cause") in ("raised", "reopened"):
            raised.append(time.monotonic())

    bus.subscribe(on_alarm)
    ingest = Ingest(config, engine)
    await ingest.start()
    rules = RuleEngine(
        rule_set([device_rule(HOT, vocabulary())], []), engine, ingest.bindings.table.devices.get, events=bus
    )
    await rules.start()
    ingest.state.subscribe(rules.readings)
    done = CTX.Queue()
    background = CTX.Process(
        target=publish, args=(host, port, publisher, devices, 0, int(rate * (seconds + 2)), rate, done)
    )
    background.start()
    await asyncio.sleep(1.0)
    sent: list[float] = []
    await asyncio.to_thread(probe, host, port, publisher, seconds, sent, threading.Event())
    await asyncio.sleep(1.0)
    background.join()
    await rules.stop()
    await ingest.stop()
    engine.dispose()
    return _pair(sent, raised)


def _pair(sent: list[float], seen: list[float]) -> list[float]:
    out, i = [], 0
    for t in sent:
        while i < len(seen) and seen[i] < t:
            i += 1
        if i < len(seen):
            out.append((seen[i] - t) * 1000)
            i += 1
    return out


def bare(conninfo: str, broker: MosquittoBroker, seconds: float) -> list[float]:
    """A bare paho subscriber committing one INSERT per probe message; return publish→commit in ms."""
    host, port = broker.host, broker.port
    committed: list[float] = []
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (at timestamptz, body bytea)")

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if orjson.loads(message.payload)["temperature"] > 50:
            conn.execute("INSERT INTO bench_bare VALUES (now(), %s)", (message.payload,))
            committed.append(time.monotonic())

    sub = twin(broker).apply(paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare-sub"))
    sub.on_message = on_message
    sub.connect(host, port)
    sub.subscribe(PROBE_TOPIC, qos=1)
    sub.loop_start()
    time.sleep(0.5)
    sent: list[float] = []
    probe(host, port, simulator(broker), seconds, sent, threading.Event())
    time.sleep(0.5)
    sub.loop_stop()
    sub.disconnect()
    conn.close()
    return _pair(sent, committed)


def figure(text: str) -> float | None:
    """Read back a figure ``row`` formatted ("-" when there were no samples)."""
    return None if text == "-" else float(text)


def row(name: str, ms: list[float]) -> tuple[str, str, str, str]:
    """Format n, p50 and p99."""
    if not ms:
        return name, "0", "-", "-"
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return name, str(len(ms)), f"{statistics.median(ms):.1f}", f"{q[98]:.1f}"


COST_GOAL = 1.2
"""Judging with the noise controls may cost at most this many times judging with today's keys."""


def cost_table(console: Console, devices: int, hours: float) -> None:
    """Print and report what judging a reading costs, today's keys beside the noise controls."""
    with console.status("judging cost per reading, in memory…"):
        costs = measure(devices, hours)
    table = Table(title=f"rule evaluation per reading (RuleEngine.readings, in memory), {stamp()}")
    for column in ("rules", "today's keys µs", "noise controls µs", "ratio", "raises+clears today / new"):
        table.add_column(column)
    for c in costs:
        table.add_row(c.name, f"{c.today_us:.2f}", f"{c.new_us:.2f}", f"{c.ratio:.2f}×", f"{c.today_ops} / {c.new_ops}")
    console.print(table)
    report(_cost_row(c) for c in (costs[0], costs[-1]))


def _cost_row(c: Cost) -> Row:
    return Row(
        "alarms", f"judging per reading · {c.name}", round(c.new_us, 2), round(c.today_us, 2), "µs",
        f"≤ {COST_GOAL}× today's keys", c.ratio <= COST_GOAL,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2500.0, help="background messages/s (two readings each)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cost-only", action="store_true", help="only the judging cost, no broker or database")
    parser.add_argument("--cost-devices", type=int, default=200, help="devices of each kind for the judging cost")
    parser.add_argument("--cost-hours", type=float, default=1.0, help="hours of readings for the judging cost")
    args = parser.parse_args()
    console = Console()
    cost_table(console, args.cost_devices, args.cost_hours)
    if args.cost_only:
        return
    root = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    root.chmod(0o755)
    (root / "pg").mkdir()
    (root / "pg").chmod(0o755)
    cluster = PostgresCluster(root / "pg" / "data", free_port(), database="bench", fast_and_unsafe=True)
    broker = MosquittoBroker(root / "mqtt", free_port())
    try:
        with console.status("starting PostgreSQL and Mosquitto…"):
            cluster.start()
            broker.start()
            url = cluster.url()
            upgrade(url)
            make_devices(url, args.devices)
            add_probe(url)
        home = root / "ingest"
        home.mkdir()
        with console.status(f"ingest + rules under {2 * args.rate:,.0f} readings/s…"):
            latencies = asyncio.run(ours(url, broker, home, args.devices, args.rate, args.seconds))
        with console.status("bare paho subscriber + INSERT…"):
            baseline = bare(cluster.conninfo("bench"), broker, args.seconds)
        table = Table(
            title=f"threshold crossing → committed alarm, {stamp()}, background {2 * args.rate:,.0f} readings/s"
        )
        for column in ("path", "alarms", "p50 ms", "p99 ms"):
            table.add_column(column)
        table.add_row(*row("ingest + rule engine (decode, bind, judge, upsert, commit)", latencies))
        table.add_row(*row("bare paho → INSERT commit, no load", baseline))
        console.print(table)
        ours_row, bare_row = row("", latencies), row("", baseline)
        report(
            Row("alarms", f"threshold → committed alarm · {name}", figure(ours_row[i]), figure(bare_row[i]), "ms")
            for i, name in ((2, "p50"), (3, "p99"))
        )
    finally:
        broker.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
