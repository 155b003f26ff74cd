"""Graph look-ups through the API next to the same SQL run bare, in the same run.

    python bench/bench_graph.py [--devices 100000 --buildings 20 --floors 30] [--repeat 200]
                                [--client http|testclient]

Starts a throw-away PostGIS cluster, fills it with a synthetic community, and prints p50/p95 of
devices-in-floor, within-radius, nearest-N, subtree and address search, through the REST API and
as bare indexed psycopg queries, with the ratio. The API is measured as clients meet it: a real
uvicorn server in its own process and a keep-alive httpx client (``--client testclient`` keeps
FastAPI's in-process TestClient instead, whose threads share the server's interpreter lock). The
``GET /healthz`` row is the transport alone: no authentication, no session, no query.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.graph_data import populate
from bench.table import Row, report
from twin.app import create_app
from twin.auth import users
from twin.auth.roles import Role
from twin.cli import SERVER_OPTIONS
from twin.services import PostgresCluster
from twin.services.system import free_port
from twin.settings import Settings
from twin.store.engine import make_engine, session_factory, upgrade

PASSWORD = "bench password 1"
GOAL_MS = 20.0
GOAL_RATIO = 2.0


def serve(settings: Settings, url: str, port: int) -> None:
    """Run the server in this (child) process, as ``twin serve`` would."""
    import uvicorn

    uvicorn.run(
        create_app(settings, db_url=url),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        **SERVER_OPTIONS,
    )


@contextlib.contextmanager
def api_client(kind: str, settings: Settings, url: str) -> Iterator[Any]:
    """Yield an httpx-like client of the API: a real server in a child process, or the TestClient."""
    if kind == "testclient":
        from fastapi.testclient import TestClient

        with TestClient(create_app(settings, db_url=url)) as client:
            yield client
        return
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(settings, url, port), daemon=True)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or not server.is_alive():
                    raise RuntimeError("the API server did not start")
                time.sleep(0.2)
            yield client
    finally:
        server.terminate()
        server.join(10)


def timed(fn: Callable[[int], object], repeat: int, first: int = 0) -> list[float]:
    samples = []
    for i in range(first, first + repeat):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--buildings", type=int, default=5)
    parser.add_argument("--floors", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--client", choices=("http", "testclient"), default="http")
    args = parser.parse_args()
    console = Console()
    root = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    root.chmod(0o755)
    (root / "pg").mkdir()
    (root / "pg").chmod(0o755)
    cluster = PostgresCluster(root / "pg" / "data", free_port(), database="bench", fast_and_unsafe=True)
    try:
        cluster.start()
        url = cluster.url()
        upgrade(url)
        engine = make_engine(url)
        with console.status(f"building {args.devices:,} devices over {args.buildings}×{args.floors} floors…"):
            with session_factory(engine)() as session, session.begin():
                ids = populate(session, args.buildings, args.floors, args.devices)
                users.add_user(session, "bench", PASSWORD)
                users.grant(session, "bench", Role.ADMIN, None)
            with psycopg.connect(cluster.conninfo("bench"), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        engine.dispose()
        rng = random.Random(1)
        floors, buildings, addresses = ids["floors"], ids["buildings"], ids["addresses"]
        site = ids["site"][0]
        settings = Settings(home=root / "var", mqtt_url="mqtt://127.0.0.1:1", web_dist=root / "dist")
        bare = psycopg.connect(cluster.conninfo("bench"), autocommit=True)
        device_ids = [r[0] for r in bare.execute("SELECT id FROM devices ORDER BY random() LIMIT 500")]
        with api_client(args.client, settings, url) as client:
            token = client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD}).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            cases = {
                "devices in floor": (
                    lambda i: client.get(
                        "/api/devices", params={"under": floors[i % len(floors)], "kind": "smoke_detector"}
                    ),
                    lambda i: bare.execute(
                        "SELECT d.* FROM devices d WHERE d.retired_at IS NULL AND d.path <@ "
                        "(SELECT path FROM places WHERE id = %s) AND d.kind = 'smoke_detector' ORDER BY d.id LIMIT 101",
                        (floors[i % len(floors)],),
                    ).fetchall(),
                ),
                "within 30 m": (
                    lambda i: client.get("/api/devices", params={"near_device": device_ids[i % 500], "radius": 30}),
                    lambda i: bare.execute(
                        "SELECT d.*, ST_Distance(ST_Force2D(d.position_local), ST_Force2D(o.position_local)) FROM "
                        "devices d, devices o WHERE o.id = %s AND d.site_id = o.site_id AND d.id <> o.id AND "
                        "d.retired_at IS NULL AND ST_DWithin(d.position_local, o.position_local, 30) ORDER BY d.id "
                        "LIMIT 101",
                        (device_ids[i % 500],),
                    ).fetchall(),
                ),
                "nearest 10": (
                    lambda i: client.get(
                        "/api/devices", params={"under": site, "near": f"{rng.uniform(0, 280)},20", "nearest": 10}
                    ),
                    lambda i: bare.execute(
                        "SELECT d.* FROM devices d WHERE d.site_id = %s AND d.retired_at IS NULL ORDER BY "
                        "d.position_local <-> ST_MakePoint(%s, 20) LIMIT 10",
                        (site, rng.uniform(0, 280)),
                    ).fetchall(),
                ),
                "subtree (floors)": (
                    lambda i: client.get(
                        f"/api/places/{buildings[i % len(buildings)]}/subtree", params={"kind": "floor"}
                    ),
                    lambda i: bare.execute(
                        "SELECT p.* FROM places p JOIN floors f USING (id) WHERE p.path <@ (SELECT path FROM places "
                        "WHERE id = %s) AND p.id <> %s ORDER BY p.path",
                        (buildings[i % len(buildings)],) * 2,
                    ).fetchall(),
                ),
                "address search": (
                    lambda i: client.get("/api/units", params={"address": addresses[i % len(addresses)]}),
                    lambda i: bare.execute(
                        "SELECT * FROM spaces s JOIN places p USING (id) WHERE s.address = %s",
                        (addresses[i % len(addresses)],),
                    ).fetchall(),
                ),
            }
            client_name = "uvicorn + httpx" if args.client == "http" else "TestClient"
            table = Table(
                title=f"graph look-ups · {args.devices:,} devices · {args.repeat} runs each (ms) · API: {client_name}"
            )
            for column in ("query", "API p50", "API p95", "bare p50", "bare p95", "p95 ratio"):
                table.add_column(column, justify="right")
            rows = []
            for name, (api, sql) in cases.items():
                first = api(0)
                assert first.status_code == 200, first.text
                # Interleaved in blocks so a burst of load elsewhere on the machine hits both alike.
                api_ms: list[float] = []
                sql_ms: list[float] = []
                for start in range(0, args.repeat, 20):
                    block = min(20, args.repeat - start)
                    api_ms += timed(api, block, start)
                    sql_ms += timed(sql, block, start)
                api95, sql95 = pct(api_ms, 95), pct(sql_ms, 95)
                table.add_row(
                    name,
                    f"{pct(api_ms, 50):.2f}",
                    f"{api95:.2f}",
                    f"{pct(sql_ms, 50):.2f}",
                    f"{sql95:.2f}",
                    f"{api95 / sql95:.1f}×",
                )
                rows.append(
                    Row(
                        "graph",
                        f"{name} · p95",
                        api95,
                        sql95,
                        "ms",
                        f"< {GOAL_MS:.0f} ms and ≤ {GOAL_RATIO:.0f}× bare",
                        api95 < GOAL_MS and api95 <= GOAL_RATIO * sql95,
                        f"{args.devices:,} devices, {client_name}",
                    )
                )
            floor_ms = timed(lambda i: client.get("/healthz"), args.repeat)
            table.add_row(
                "GET /healthz (transport)", f"{pct(floor_ms, 50):.2f}", f"{pct(floor_ms, 95):.2f}", "", "", ""
            )
            console.print(table)
            report(rows)
        bare.close()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
