"""The live ingest against bare baselines measured in the same run, on a private PostGIS and Mosquitto.

    python bench/bench_ingest.py [--messages 60000 --devices 1000 --publishers 4 --rate 3000 --rounds 2]

(a) Loss-free throughput: the messages wait at the broker for a persistent session (filled by
    several publisher processes), then the consumer connects and drains them. The ingest counts
    as done when every reading is committed in PostgreSQL (decode, bind, state, health, history);
    the bare paho subscriber when it has JSON-decoded every message. Each message carries two
    readings. Best of ``--rounds`` alternating runs, since the machine is shared.
(b) History and latest-state writes: the ingest's writer (COPY with partition checks, upsert of
    state) against a bare binary COPY and a bare batched upsert of the same rows.
(c) Paced at ``--rate`` messages/s: p50/p99 from receipt to the row visible (committed), and CPU
    per 1,000 readings of the ingest process and of PostgreSQL, beside the bare subscriber's CPU.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_parts import (
    IngestRun,
    bare_subscriber,
    drop_session,
    ingest_process,
    publish,
    stamp,
    subscribe_only,
)
from bench.logins import Login, simulator, twin
from bench.table import Row, report
from realtime.history import StateRow, TelemetryStore, conninfo_of
from twin.graph import places
from twin.schemas import BuildingCreate, FloorCreate, SiteCreate
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.system import free_port
from twin.store.engine import make_engine, session_factory, upgrade

CTX = mp.get_context("spawn")


def make_devices(url: str, devices: int) -> None:
    """Create a site, a floor and ``devices`` environment sensors bound to ("bench", "d<n>"), in bulk."""
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        site = places.create_site(session, SiteCreate(name="Bench", origin_lat=25.07, origin_lon=102.72))
        building = places.create_building(session, BuildingCreate(site_id=site.id, name="1栋", code="1"))
        floor = places.create_floor(session, FloorCreate(building_id=building.id, name="1F", level=1, elevation=0))
        session.execute(
            text(
                "INSERT INTO devices (site_id, place_id, floor_id, path, kind, name, properties, health) "
                "SELECT :site, :floor, :floor, text2ltree(:path), 'env_sensor', 'd' || n, '{}', 'unknown' "
                "FROM generate_series(0, :last) n"
            ),
            {"site": site.id, "floor": floor.id, "path": floor.path, "last": devices - 1},
        )
        session.execute(
            text("INSERT INTO identifiers (namespace, value, device_id) SELECT 'bench', name, id FROM devices")
        )
    engine.dispose()


def reset(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE readings, device_state, discovered_identities")


def pg_cpu(cluster: PostgresCluster) -> float:
    """Return the CPU seconds the cluster's processes used so far (live backends and reaped ones)."""
    tick = os.sysconf("SC_CLK_TCK")
    master = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master:
            total += sum(int(f) for f in fields[11:15]) / tick
        elif ppid == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def fill(
    host: str, port: int, login: Login, devices: int, messages: int, publishers: int, rate: float | None = None
) -> float:
    """Publish ``messages`` with several processes logged in as ``login``; return how long it took."""
    done = CTX.Queue()
    share = messages // publishers
    procs = [
        CTX.Process(
            target=publish,
            args=(host, port, login, devices, i * share, share, rate / publishers if rate else None, done),
        )
        for i in range(publishers)
    ]
    start = time.monotonic()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert sum(done.get() for _ in procs) == share * publishers
    return time.monotonic() - start


def run_child(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    results = CTX.Queue()
    proc = CTX.Process(target=target, args=(*args, results))
    proc.start()
    result: dict[str, Any] = results.get(timeout=1200)
    proc.join()
    return result


def writes(url: str, devices: int, rows: int, rounds: int) -> dict[str, float]:
    """Time the ingest's history and state writes against bare COPY and bare upserts of the same rows."""
    conninfo = conninfo_of(url)
    with psycopg.connect(conninfo) as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM devices ORDER BY id")]
    start = datetime.now(UTC) - timedelta(hours=1)
    data = [
        (ids[n % devices], "temperature", start + timedelta(milliseconds=n), 20.0 + n % 100, None) for n in range(rows)
    ]
    chunks = [data[i : i + 5000] for i in range(0, rows, 5000)]
    state = [StateRow(d, q, 20.0, None, None, "°C", start) for d in ids for q in ("a", "b", "c")]
    best = {"ours_history": 0.0, "bare_history": 0.0, "ours_state": 0.0, "bare_state": 0.0}
    store = TelemetryStore(conninfo)
    bare = psycopg.connect(conninfo, autocommit=True)
    upsert = (
        "INSERT INTO device_state (device_id, quantity, value, flag, text, unit, time) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (device_id, quantity) DO UPDATE SET value = excluded.value, time = excluded.time"
    )
    for _ in range(rounds):
        reset(conninfo)
        t = time.perf_counter()
        for chunk in chunks:
            store.write_history(chunk)
        best["ours_history"] = max(best["ours_history"], rows / (time.perf_counter() - t))
        reset(conninfo)
        t = time.perf_counter()
        for chunk in chunks:
            with bare.transaction(), bare.cursor() as cur:
                with cur.copy(
                    "COPY readings (device_id, quantity, time, value, text) FROM STDIN (FORMAT BINARY)"
                ) as cp:
                    cp.set_types(["int8", "text", "timestamptz", "float8", "text"])
                    for row in chunk:
                        cp.write_row(row)
        best["bare_history"] = max(best["bare_history"], rows / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(10):
            store.write_state(state, [], [])
        best["ours_state"] = max(best["ours_state"], 10 * len(state) / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(10):
            with bare.transaction(), bare.cursor() as cur:
                cur.executemany(upsert, [(s.device_id, s.quantity, s.value, None, None, s.unit, s.time) for s in state])
        best["bare_state"] = max(best["bare_state"], 10 * len(state) / (time.perf_counter() - t))
    store.close()
    bare.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=1500.0, help="messages/s of the paced run")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the write benchmark")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    console = Console()
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
        host, port, n = broker.host, broker.port, args.messages
        subscriber, publisher = twin(broker), simulator(broker)
        home = root / "ingest"
        home.mkdir()
        run = IngestRun(host, port, subscriber, url, str(home), 2 * n, "drain")
        bare_best: dict[str, float] = {"seconds": float("inf")}
        ours_best: dict[str, Any] = {"seconds": float("inf")}
        for r in range(args.rounds):
            with console.status(f"round {r + 1}: bare subscriber draining {n:,} messages…"):
                client_id = f"bench-bare-{r}"
                subscribe_only(host, port, subscriber, client_id)
                fill(host, port, publisher, args.devices, n, args.publishers)
                bare = run_child(bare_subscriber, host, port, subscriber, client_id, n)
                drop_session(host, port, subscriber, client_id)
                assert bare["messages"] == n, bare
                bare_best = min(bare_best, bare, key=lambda x: x["seconds"])
            with console.status(f"round {r + 1}: ingest draining {n:,} messages…"):
                reset(cluster.conninfo("bench"))
                run_child(ingest_process, IngestRun(host, port, subscriber, url, str(home), 0, "prepare"))
                fill(host, port, publisher, args.devices, n, args.publishers)
                pg0 = pg_cpu(cluster)
                ours = run_child(ingest_process, run)
                ours["pg_cpu"] = pg_cpu(cluster) - pg0
                drop_session(host, port, subscriber, "bench-ingest")
                assert ours["counts"]["written"] + ours["counts"]["duplicates"] == 2 * n, ours["counts"]
                ours_best = min(ours_best, ours, key=lambda x: x["seconds"])
        with console.status("history and state writes against bare COPY and upserts…"):
            wrote = writes(url, args.devices, args.rows, args.rounds)
        paced_n = int(args.rate * args.paced_seconds)
        with console.status(f"paced run at {args.rate:,.0f} messages/s…"):
            reset(cluster.conninfo("bench"))
            results = CTX.Queue()
            proc = CTX.Process(
                target=ingest_process,
                args=(IngestRun(host, port, subscriber, url, str(home), 2 * paced_n, "live"), results),
            )
            proc.start()
            assert results.get(timeout=120)["ready"]
            pg0 = pg_cpu(cluster)
            fill(host, port, publisher, args.devices, paced_n, args.publishers, args.rate)
            paced = results.get(timeout=1200)
            paced_pg = pg_cpu(cluster) - pg0
            proc.join()
            drop_session(host, port, subscriber, "bench-ingest")
            bare_results = CTX.Queue()
            subscribe_only(host, port, subscriber, "bench-bare-paced")
            bare_proc = CTX.Process(
                target=bare_subscriber, args=(host, port, subscriber, "bench-bare-paced", paced_n, bare_results)
            )
            bare_proc.start()
            time.sleep(1.0)
            fill(host, port, publisher, args.devices, paced_n, args.publishers, args.rate)
            bare_paced = bare_results.get(timeout=1200)
            bare_proc.join()
        latencies = paced["latencies"]
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
        readings = 2 * paced_n
        table = Table(title=f"live ingest · {n:,} messages (2 readings each) · {args.devices:,} devices · {stamp()}")
        for column in ("measure", "ingest", "bare", "ratio"):
            table.add_column(column, justify="right")
        ours_rate, bare_rate = n / ours_best["seconds"], n / bare_best["seconds"]
        table.add_row(
            "loss-free messages/s (drain)", f"{ours_rate:,.0f}", f"{bare_rate:,.0f}", f"{ours_rate / bare_rate:.2f}×"
        )
        table.add_row("readings/s to history", f"{2 * ours_rate:,.0f}", "—", "")
        table.add_row(
            "history rows/s (COPY)",
            f"{wrote['ours_history']:,.0f}",
            f"{wrote['bare_history']:,.0f}",
            f"{wrote['ours_history'] / wrote['bare_history']:.2f}×",
        )
        table.add_row(
            "latest-state upserts/s",
            f"{wrote['ours_state']:,.0f}",
            f"{wrote['bare_state']:,.0f}",
            f"{wrote['ours_state'] / wrote['bare_state']:.2f}×",
        )
        table.add_row(f"receipt → visible p50 ms ({args.rate:,.0f} msg/s)", f"{1000 * q[49]:.0f}", "—", "")
        table.add_row(f"receipt → visible p99 ms ({args.rate:,.0f} msg/s)", f"{1000 * q[98]:.0f}", "—", "")
        table.add_row(
            "CPU ms per 1,000 readings (paced)",
            f"{1e6 * paced['cpu'] / readings:.1f}",
            f"{1e6 * bare_paced['cpu'] / readings:.1f}",
            f"{paced['cpu'] / bare_paced['cpu']:.1f}×",
        )
        table.add_row("PostgreSQL CPU ms per 1,000 readings (paced)", f"{1e6 * paced_pg / readings:.1f}", "—", "")
        table.add_row(
            "PostgreSQL CPU ms per 1,000 readings (drain)", f"{1e6 * ours_best['pg_cpu'] / (2 * n):.1f}", "—", ""
        )
        console.print(table)
        console.print(
            f"{os.cpu_count()} cores shared by broker, publishers, PostgreSQL (fsync off) and the consumer; "
            f"bare = paho 2.x, QoS 1, persistent session, orjson.loads per message; both log in as the twin."
        )
        report(
            [
                Row("ingest", "loss-free messages/s (drain)", ours_rate, bare_rate, "msg/s", note="bare: paho + loads"),
                Row("ingest", "history rows/s (COPY)", wrote["ours_history"], wrote["bare_history"], "rows/s"),
                Row("ingest", "latest-state upserts/s", wrote["ours_state"], wrote["bare_state"], "rows/s"),
                Row("ingest", f"receipt → visible p99 ({args.rate:,.0f} msg/s)", 1000 * q[98], None, "ms"),
                Row(
                    "ingest",
                    "CPU per 1,000 readings (paced)",
                    1e6 * paced["cpu"] / readings,
                    1e6 * bare_paced["cpu"] / readings,
                    "ms",
                ),
            ]
        )
    finally:
        broker.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
