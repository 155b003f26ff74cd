"""Graph look-ups through the API next to the same SQL run bare, in the same run.

    python bench/bench_graph.py [--devices 100000 --buildings 20 --floors 30] [--repeat 200]
                                [--client http|testclient]

Starts a throw-away PostGIS cluster, fills it with a synthetic community, and prints p50/p95 of
devices-in-floor, within-radius, nearest-N, subtree and address search three ways: through the
REST API, as the bare indexed SQL on a psycopg connection, and as that bare SQL behind the
thinnest HTTP endpoint in the same server (``bench.graph_bare``: what HTTP itself costs), each
with the API's ratio to it. The API is measured as clients meet it: a real
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
import orjson
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.graph_bare import BareSql
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


BARE_SQL = {
    "devices in floor": (
        "SELECT d.* FROM devices d WHERE d.retired_at IS NULL AND d.path <@ "
        "(SELECT path FROM places WHERE id = %s) AND d.kind = 'smoke_detector' ORDER BY d.id LIMIT 101"
    ),
    "within 30 m": (
        "WITH o AS (SELECT site_id, ST_Force2D(position_local) AS centre FROM devices WHERE id = %s), "
        "walk AS (SELECT d.position_local <-> (SELECT centre FROM o) AS distance FROM devices d "
        "WHERE d.site_id = (SELECT site_id FROM o) AND d.id <> %s AND d.retired_at IS NULL "
        "AND d.position_local && ST_Expand((SELECT centre FROM o), 30) "
        "ORDER BY d.position_local <-> (SELECT centre FROM o) LIMIT 101) "
        "SELECT d.*, d.position_local <-> (SELECT centre FROM o) AS distance FROM devices d "
        "WHERE d.site_id = (SELECT site_id FROM o) AND d.id <> %s AND d.retired_at IS NULL "
        "AND ST_DWithin(d.position_local, (SELECT centre FROM o), least(30, (SELECT max(distance) + 1e-6 FROM walk))) "
        "ORDER BY distance, d.id LIMIT 101"
    ),
    "nearest 10": (
        "SELECT d.* FROM devices d WHERE d.site_id = %s AND d.retired_at IS NULL ORDER BY "
        "d.position_local <-> ST_MakePoint(%s, 20) LIMIT 10"
    ),
    "subtree (floors)": (
        "SELECT p.* FROM places p JOIN floors f USING (id) WHERE p.path <@ (SELECT path FROM places "
        "WHERE id = %s) AND p.id <> %s ORDER BY p.path"
    ),
    "address search": "SELECT * FROM spaces s JOIN places p USING (id) WHERE s.address = %s",
}
"""What each look-up asks, written by hand with the API's technique: the "bare" side of the comparison.

A radius page walks the GiST index outwards to its last row, then takes the circle reaching
that far, as ``twin.graph.device_list`` does.
"""


def serve(settings: Settings, url: str, conninfo: str, port: int) -> None:
    """Run the server in this (child) process, as ``twin serve`` would, beside the bare HTTP endpoint."""
    import uvicorn

    uvicorn.run(
        BareSql(create_app(settings, db_url=url), conninfo, BARE_SQL),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        **SERVER_OPTIONS,
    )


@contextlib.contextmanager
def api_client(kind: str, settings: Settings, url: str, conninfo: str) -> Iterator[Any]:
    """Yield an httpx-like client of the API: a real server in a child process, or the TestClient."""
    if kind == "testclient":
        from fastapi.testclient import TestClient

        with TestClient(BareSql(create_app(settings, db_url=url), conninfo, BARE_SQL)) as client:
            yield client
        return
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(settings, url, conninfo, port), daemon=True
    )
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
    console = Console(width=150)
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
        floors, buildings, addresses = ids["floors"], ids["buildings"], ids["addresses"]
        site = ids["site"][0]
        settings = Settings(home=root / "var", mqtt_url="mqtt://127.0.0.1:1", web_dist=root / "dist")
        bare = psycopg.connect(cluster.conninfo("bench"), autocommit=True)
        device_ids = [r[0] for r in bare.execute("SELECT id FROM devices ORDER BY random() LIMIT 500")]
        points = [random.Random(1).uniform(0, 280) for _ in range(500)]
        asks: dict[str, Callable[[int], tuple[str, dict[str, Any], list[Any]]]] = {
            "devices in floor": lambda i: (
                "/api/devices",
                {"under": floors[i % len(floors)], "kind": "smoke_detector"},
                [floors[i % len(floors)]],
            ),
            "within 30 m": lambda i: (
                "/api/devices",
                {"near_device": device_ids[i % 500], "radius": 30},
                [device_ids[i % 500]] * 3,
            ),
            "nearest 10": lambda i: (
                "/api/devices",
                {"under": site, "near": f"{points[i % 500]},20", "nearest": 10},
                [site, points[i % 500]],
            ),
            "subtree (floors)": lambda i: (
                f"/api/places/{buildings[i % len(buildings)]}/subtree",
                {"kind": "floor"},
                [buildings[i % len(buildings)]] * 2,
            ),
            "address search": lambda i: (
                "/api/units",
                {"address": addresses[i % len(addresses)]},
                [addresses[i % len(addresses)]],
            ),
        }
        """Each look-up's i-th question: the API's path and query, and the bare SQL's parameters."""
        with api_client(args.client, settings, url, cluster.conninfo("bench")) as client:
            token = client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            client_name = "uvicorn + httpx" if args.client == "http" else "TestClient"
            table = Table(
                title=f"graph look-ups · {args.devices:,} devices · {args.repeat} runs each (ms) · API: {client_name}"
            )
            for column in (
                "query",
                "API p50",
                "API p95",
                "SQL p50",
                "SQL p95",
                "HTTP+SQL p50",
                "HTTP+SQL p95",
                "÷ SQL",
                "÷ HTTP+SQL",
            ):
                table.add_column(column, justify="right")
            rows = []
            for name, ask in asks.items():

                def api(i: int, ask: Any = ask) -> Any:
                    path, params, _ = ask(i)
                    return client.get(path, params=params, headers=headers)

                def sql(i: int, ask: Any = ask, name: str = name) -> Any:
                    return bare.execute(BARE_SQL[name], ask(i)[2]).fetchall()

                def thin(i: int, ask: Any = ask, name: str = name) -> Any:
                    return client.get(f"/bare/{name}", params={"p": orjson.dumps(ask(i)[2]).decode()})

                for check in (api(0), thin(0)):
                    assert check.status_code == 200, check.text
                # Interleaved in blocks so a burst of load elsewhere on the machine hits all three alike.
                api_ms: list[float] = []
                sql_ms: list[float] = []
                thin_ms: list[float] = []
                for start in range(0, args.repeat, 20):
                    block = min(20, args.repeat - start)
                    api_ms += timed(api, block, start)
                    sql_ms += timed(sql, block, start)
                    thin_ms += timed(thin, block, start)
                api95, sql95, thin95 = pct(api_ms, 95), pct(sql_ms, 95), pct(thin_ms, 95)
                table.add_row(
                    name,
                    *(f"{pct(ms, q):.2f}" for ms in (api_ms, sql_ms, thin_ms) for q in (50, 95)),
                    f"{api95 / sql95:.1f}×",
                    f"{api95 / thin95:.1f}×",
                )
                note = f"{args.devices:,} devices, {client_name}"
                goal = f"< {GOAL_MS:.0f} ms and ≤ {GOAL_RATIO:.0f}×"
                rows.append(
                    Row(
                        "graph",
                        f"{name} · p95 vs bare SQL",
                        api95,
                        sql95,
                        "ms",
                        goal,
                        api95 < GOAL_MS and api95 <= GOAL_RATIO * sql95,
                        note,
                    )
                )
                rows.append(
                    Row(
                        "graph",
                        f"{name} · p95 vs bare HTTP + SQL",
                        api95,
                        thin95,
                        "ms",
                        goal,
                        api95 < GOAL_MS and api95 <= GOAL_RATIO * thin95,
                        note,
                    )
                )
            floor_ms = timed(lambda i: client.get("/healthz"), args.repeat)
            table.add_row("GET /healthz (transport)", f"{pct(floor_ms, 50):.2f}", f"{pct(floor_ms, 95):.2f}", *[""] * 6)
            console.print(table)
            report(rows)
        bare.close()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
