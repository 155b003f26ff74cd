"""The live hub against a bare relay: MQTT reading in, WebSocket message out, measured in one run.

    python bench/bench_hub.py [--seconds 5 --floors 10 --per-floor 20]

Ours: ``twin serve`` with the live ingest on (decode, bind, state, history written behind, the hub's
scoped fan-out); clients authenticate and subscribe to floors. Bare: a paho subscriber that hands
payloads to asyncio and broadcasts each with ``websockets``, no twin logic (bench/hub_parts.py).
Same broker, same publisher, same client code, one reading per MQTT message. Both log in to the
broker as the twin (the server through ``TWIN_MQTT_URL``), the publisher as the simulator.

- reference: 2,000 readings/s, 10 clients on the matching floor: delivered = offered, p50 ≤ 2×, p99 ≤ 3×
- capacity: the highest rate every client gets every reading of, p99 under 1 s, with 10 matching clients:
  at least 0.5× the bare relay's
- scoping: 100 clients over 10 floors (10 match each reading) cost at most 1.5× the server CPU per
  reading of 10 clients on one floor
- isolation: one client that stops reading raises the others' p99 by at most 1.2×; its queue stays bounded
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hub_parts import PROFILE, bare_relay, clients, publish
from bench.logins import simulator, twin
from bench.table import Row
from bench.table import report as report_rows
from twin.auth import users
from twin.auth.roles import Role
from twin.graph import places
from twin.schemas import BuildingCreate, FloorCreate, SiteCreate
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.system import accepts_connections, free_port
from twin.store.engine import make_engine, session_factory, upgrade

CTX = multiprocessing.get_context("spawn")
PASSWORD = "bench-hub-Passw0rd"
CLIENTS_PER_PROCESS = 25
KEEPING_UP_MS = 1000.0
"""A rate counts as sustained only while p99 stays under this."""
console = Console()


@dataclass
class Community:
    """Floor ids and the MQTT device names on each floor."""

    floors: list[int]
    devices: dict[int, list[str]]


def build(url: str, floors: int, per_floor: int) -> Community:
    """One tower of ``floors`` floors with ``per_floor`` bound sensors each, and an admin account."""
    engine = make_engine(url)
    c = Community([], {})
    with session_factory(engine)() as session, session.begin():
        site = places.create_site(session, SiteCreate(name="Bench", origin_lat=25.07, origin_lon=102.72))
        building = places.create_building(session, BuildingCreate(site_id=site.id, name="1栋", code="1"))
        for level in range(1, floors + 1):
            floor = places.create_floor(
                session, FloorCreate(building_id=building.id, name=f"{level}F", level=level, elevation=3.0 * level)
            )
            c.floors.append(floor.id)
            names = [f"f{level}d{n}" for n in range(per_floor)]
            c.devices[floor.id] = names
            session.execute(
                text(
                    "INSERT INTO devices (site_id, place_id, floor_id, path, kind, name, properties, health) "
                    "SELECT :site, :floor, :floor, text2ltree(:path), 'env_sensor', n, '{}', 'unknown' "
                    "FROM unnest(CAST(:names AS text[])) n"
                ),
                {"site": site.id, "floor": floor.id, "path": floor.path, "names": names},
            )
        session.execute(
            text("INSERT INTO identifiers (namespace, value, device_id) SELECT 'benchhub', name, id FROM devices")
        )
        users.add_user(session, "bench", PASSWORD)
        users.grant(session, "bench", Role.ADMIN, None, None)
    engine.dispose()
    return c


class Server:
    """``twin serve`` with the ingest on, in its own process."""

    def __init__(self, url: str, broker: str, home: Path) -> None:
        self.port = free_port()
        profile = home / "benchhub.toml"
        profile.write_text(PROFILE)
        env = {
            **os.environ,
            "TWIN_DATABASE_URL": url,
            "TWIN_MQTT_URL": broker,
            "TWIN_HOME": str(home / "var"),
            "TWIN_INGEST": "true",
            "TWIN_INGEST_PROFILES": f'["{profile}"]',
            "TWIN_INGEST_CLIENT_ID": "benchhub-ingest",
            "TWIN_HUB_MAX_CONNECTIONS_PER_USER": "500",
        }
        self.log = (home / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twin.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not accepts_connections("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: see {home / 'server.log'}")
            time.sleep(0.2)
        while httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code != 200:
            time.sleep(0.2)
        login = httpx.post(
            f"http://127.0.0.1:{self.port}/api/auth/login", json={"username": "bench", "password": PASSWORD}
        )
        self.token: str = login.json()["access_token"]

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def cpu(self) -> float:
        """Return the server process's CPU seconds so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metric(self, name: str) -> float:
        page = httpx.get(f"http://127.0.0.1:{self.port}/metrics", headers={"Authorization": f"Bearer {self.token}"})
        match = re.search(rf"^{name}(?:_total)? (\S+)$", page.text, re.M)
        return float(match.group(1)) if match else float("nan")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


@dataclass
class Run:
    """What the clients of one run saw."""

    offered: int
    counts: list[int]
    p50: float
    p99: float
    cpu_s: float = 0.0
    share: float = 1.0
    """The part of the readings each client should receive (its floor's)."""

    @property
    def lossless(self) -> bool:
        """Every client got every reading of its scope, and in time: a relay seconds behind is not keeping up."""
        return bool(self.counts) and min(self.counts) >= int(self.offered * self.share) and self.p99 < KEEPING_UP_MS


def run(
    broker: MosquittoBroker,
    url: str,
    token: str | None,
    scopes: list[str],
    devices: list[str],
    rate: float,
    seconds: float,
    stalled: int = 0,
    server: Server | None = None,
    share: float = 1.0,
) -> Run:
    """Connect the clients, publish for ``seconds`` at ``rate``, and gather what each received."""
    ready, out, done = CTX.Queue(), CTX.Queue(), CTX.Queue()
    expected = int(rate * seconds * share)
    groups = [scopes[i : i + CLIENTS_PER_PROCESS] for i in range(0, len(scopes), CLIENTS_PER_PROCESS)]
    readers = [
        CTX.Process(
            target=clients,
            args=(url, token, group, seconds + 4, expected, stalled if n == 0 else 0, ready, out),
            daemon=True,
        )
        for n, group in enumerate(groups)
    ]
    for reader in readers:
        reader.start()
    for _ in readers:
        ready.get(timeout=120)
    cpu0 = server.cpu() if server else 0.0
    publishers = 1 if rate <= 4000 else 2
    login = simulator(broker)
    procs = [
        CTX.Process(
            target=publish,
            args=(broker.host, broker.port, login, devices[i::publishers], rate / publishers, seconds, done),
        )
        for i in range(publishers)
    ]
    for p in procs:
        p.start()
    offered = sum(done.get(timeout=seconds + 120) for _ in procs)
    results: list[dict[str, Any]] = [out.get(timeout=seconds + 180) for _ in readers]
    cpu = (server.cpu() - cpu0) if server else 0.0
    for process in [*readers, *procs]:
        process.join(30)
    counts = [c for r in results for c in r["counts"]]
    every = sorted(x for r in results for x in r["latencies"])
    p50 = statistics.median(every) if every else float("nan")
    p99 = every[int(len(every) * 0.99)] if every else float("nan")
    return Run(offered, counts, p50, p99, cpu, share)


def capacity(go: Any, rates: list[float]) -> float:
    """Return the highest of ``rates`` (ascending) that ``go`` delivers without loss."""
    best = 0.0
    for rate in rates:
        if not go(rate).lossless:
            break
        best = rate
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="publishing time of each run")
    parser.add_argument("--floors", type=int, default=10)
    parser.add_argument("--per-floor", type=int, default=20)
    parser.add_argument("--rates", default="2000,3000,4000,6000,8000,12000", help="capacity steps, readings/s")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    root = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    root.chmod(0o755)
    cluster = PostgresCluster(root / "pg" / "data", free_port(), database="bench", fast_and_unsafe=True)
    broker = MosquittoBroker(root / "mqtt", free_port())
    (root / "pg").mkdir()
    (root / "pg").chmod(0o755)
    relay: Any = None
    server: Server | None = None
    try:
        with console.status("starting PostgreSQL, Mosquitto, the twin server and the bare relay…"):
            cluster.start()
            broker.start()
            url = cluster.url()
            upgrade(url)
            community = build(url, args.floors, args.per_floor)
            server = Server(url, broker.url, root)
            relay_port, relay_ready = free_port(), CTX.Queue()
            relay = CTX.Process(
                target=bare_relay,
                args=(broker.host, broker.port, twin(broker), relay_port, relay_ready),
                daemon=True,
            )
            relay.start()
            relay_ready.get(timeout=60)
        bare_url = f"ws://127.0.0.1:{relay_port}"
        floor1 = community.floors[0]
        on_floor1 = community.devices[floor1]
        ten = [f"floor:{floor1}"] * 10
        everywhere = [d for f in community.floors for d in community.devices[f]]
        s = args.seconds

        def ours(
            rate: float, scopes: list[str] = ten, devices: list[str] = on_floor1, stalled: int = 0, share: float = 1.0
        ) -> Run:
            assert server is not None
            result = run(broker, server.ws, server.token, scopes, devices, rate, s, stalled, server, share)
            console.log(f"ours {rate:.0f}/s {len(scopes)} clients: {_summary(result)}")
            return result

        def bare(rate: float) -> Run:
            result = run(broker, bare_url, None, ["-"] * 10, on_floor1, rate, s)
            console.log(f"bare {rate:.0f}/s 10 clients: {_summary(result)}")
            return result

        ours(1000), bare(1000)  # warm-up: connections, partitions, caches
        ref_ours, ref_bare = ours(2000), bare(2000)
        cap_ours = capacity(ours, rates)
        cap_bare = capacity(bare, rates)
        one_floor = ours(1000)
        spread = ours(
            1000,
            [f"floor:{f}" for f in community.floors for _ in range(10)],
            everywhere,
            share=1 / len(community.floors),
        )
        calm = ours(2000)
        slowed = ours(2000, stalled=1)
        queued = server.metric("twin_hub_queued_bytes")
        report(ref_ours, ref_bare, cap_ours, cap_bare, one_floor, spread, calm, slowed, queued, server)
    finally:
        if relay is not None:
            relay.kill()
        if server is not None:
            server.stop()
        broker.stop()
        cluster.stop()


def _summary(r: Run) -> str:
    return f"offered {r.offered}, received min {min(r.counts, default=0)}, p50 {r.p50:.1f} ms, p99 {r.p99:.1f} ms"


def report(
    ref_ours: Run,
    ref_bare: Run,
    cap_ours: float,
    cap_bare: float,
    one_floor: Run,
    spread: Run,
    calm: Run,
    slowed: Run,
    queued: float,
    server: Server,
) -> None:
    table = Table(title="Live hub: MQTT reading → WebSocket message")
    for column in ("measure", "ours", "bare relay", "ratio", "goal", "met"):
        table.add_column(column, justify="right" if column not in ("measure", "goal") else "left")

    rows: list[Row] = []

    def row(measure: str, ours: float, bare: float, goal: str, met: bool, unit: str = "") -> None:
        rows.append(Row("hub", measure, ours, bare, unit.strip(), goal, met))
        ratio = ours / bare if bare else float("nan")
        table.add_row(
            measure, f"{ours:,.1f}{unit}", f"{bare:,.1f}{unit}", f"{ratio:.2f}×", goal, "yes" if met else "NO"
        )

    loss = f"{min(ref_ours.counts, default=0):,}/{ref_ours.offered:,}"
    table.add_row("reference 2,000/s, 10 clients: delivered", loss, f"{min(ref_bare.counts, default=0):,}", "",
                  "= offered", "yes" if ref_ours.lossless else "NO")  # fmt: skip
    row("reference p50", ref_ours.p50, ref_bare.p50, "≤ 2×", ref_ours.p50 <= 2 * ref_bare.p50, " ms")
    row("reference p99", ref_ours.p99, ref_bare.p99, "≤ 3×", ref_ours.p99 <= 3 * ref_bare.p99, " ms")
    row("capacity: highest rate all delivered, p99 < 1 s", cap_ours, cap_bare, "≥ 0.5×", cap_ours >= 0.5 * cap_bare)
    per_one = one_floor.cpu_s / one_floor.offered * 1e6
    per_spread = spread.cpu_s / spread.offered * 1e6
    row("scoping: server CPU µs/reading, 100 over 10 floors vs 10 on one", per_spread, per_one, "≤ 1.5×",
        per_spread <= 1.5 * per_one)  # fmt: skip
    row("isolation: p99 with a stalled client vs without", slowed.p99, calm.p99, "≤ 1.2×",
        slowed.p99 <= 1.2 * calm.p99, " ms")  # fmt: skip
    table.add_row("isolation: the stalled client's queue", f"{queued / 1024:,.1f} KiB", "", "", "bounded",
                  "yes" if queued < 1 << 20 else "NO")  # fmt: skip
    table.add_row("server memory after the runs", f"{server.rss_mb():,.0f} MiB", "", "", "", "")
    console.print(table)
    report_rows(rows)


if __name__ == "__main__":
    main()
