"""Graph look-ups through the API next to the same SQL run bare, in the same run.

    python bench/bench_graph.py [--devices 100000 --buildings 20 --floors 30] [--repeat 200]

Starts a throw-away PostGIS cluster, fills it with a synthetic community, and prints p50/p95 of
devices-in-floor, within-radius, nearest-N, subtree and address search three ways: through the
REST API, as the same SQL run bare on a psycopg connection, and as that SQL behind the thinnest
HTTP endpoint in the same server (what HTTP itself costs), each with the API's ratio to it. The
same SQL is the API's own: each question is asked once in-process first and the statements it
sent are recorded, then replayed bare (``bench.graph_bare``). The API is measured as clients
meet it: a real uvicorn server in its own process, served as ``twin serve`` serves, and a
keep-alive HTTP/1.1 client (the standard library's, which adds the least of its own). Where the
"HTTP+SQL ÷ SQL" column is above 2×, HTTP and the asynchronous driver alone exceed the 2× goal,
before any of the twin's own work. Two floors close the table: ``GET /bare/``, HTTP alone, and
``GET /healthz``, which adds the twin's middleware and routing (no authentication, session or query).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
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
from urllib.parse import quote, urlencode

import psycopg
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.graph_bare import BareSql, Replay, capture, run_bare
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


def serve(settings: Settings, url: str, conninfo: str, cases: dict[str, Replay], port: int) -> None:
    """Run the server in this (child) process, as ``twin serve`` would, beside the bare HTTP endpoint."""
    import uvicorn

    uvicorn.run(
        BareSql(create_app(settings, db_url=url), conninfo, cases),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        **SERVER_OPTIONS,
    )


class Client:
    """One keep-alive HTTP/1.1 connection sending prepared GETs and reading whole answers."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET a path with its query; return the status and the body."""
        self.conn.request("GET", target, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()


@contextlib.contextmanager
def api_server(settings: Settings, url: str, conninfo: str, cases: dict[str, Replay]) -> Iterator[Client]:
    """Yield a client of a real server in a child process, once it answers."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(settings, url, conninfo, cases, port), daemon=True
    )
    server.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            client = Client(port)
            try:
                if client.get("/healthz")[0] == 200:
                    break
            except OSError:
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
        asks: dict[str, Callable[[int], tuple[str, dict[str, Any]]]] = {
            "devices in floor": lambda i: (
                "/api/devices",
                {"under": floors[i % len(floors)], "kind": "smoke_detector"},
            ),
            "within 30 m": lambda i: ("/api/devices", {"near_device": device_ids[i % 500], "radius": 30}),
            "nearest 10": lambda i: (
                "/api/devices",
                {"under": site, "near": f"{points[i % 500]},20", "nearest": 10},
            ),
            "subtree (floors)": lambda i: (f"/api/places/{buildings[i % len(buildings)]}/subtree", {"kind": "floor"}),
            "address search": lambda i: ("/api/units", {"address": addresses[i % len(addresses)]}),
        }
        """Each look-up's i-th question: the API's path and query."""
        targets = {
            name: [f"{path}?{urlencode(q)}" for path, q in map(ask, range(args.repeat))] for name, ask in asks.items()
        }
        with (
            console.status("recording the SQL each question sends…"),
            TestClient(create_app(settings, db_url=url)) as tc,
        ):
            token = tc.post("/api/auth/login", json={"username": "bench", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            runtime = tc.app.state.runtime  # type: ignore[attr-defined]

            def asker(target: list[str]) -> Callable[[int], Any]:
                return lambda i: tc.get(target[i], headers=headers)

            cases = {name: capture(runtime, asker(t), args.repeat) for name, t in targets.items()}
        with api_server(settings, url, cluster.conninfo("bench"), cases) as client:
            table = Table(title=f"graph look-ups · {args.devices:,} devices · {args.repeat} runs each (ms)")
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
                "HTTP+SQL ÷ SQL",
            ):
                table.add_column(column, justify="right")
            rows = []
            for name, target in targets.items():
                thin_target = [f"/bare/{quote(name)}?i={i}" for i in range(args.repeat)]

                def api(i: int, target: list[str] = target) -> Any:
                    return client.get(target[i], headers)

                def sql(i: int, name: str = name) -> Any:
                    return run_bare(bare, cases[name][i])

                def thin(i: int, thin_target: list[str] = thin_target) -> Any:
                    return client.get(thin_target[i])

                for i in range(args.repeat):
                    # Every question answered once before the clock starts, as a warm server answers.
                    for status, body in (api(i), thin(i)):
                        assert status == 200, body[:300]
                    sql(i)
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
                    f"{thin95 / sql95:.1f}×",
                )
                note = f"{args.devices:,} devices, uvicorn + http.client"
                goal = f"< {GOAL_MS:.0f} ms and ≤ {GOAL_RATIO:.0f}×"
                rows.append(
                    Row(
                        "graph",
                        f"{name} · p95 vs the same SQL bare",
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
                        f"{name} · p95 vs bare HTTP + the same SQL",
                        api95,
                        thin95,
                        "ms",
                        goal,
                        api95 < GOAL_MS and api95 <= GOAL_RATIO * thin95,
                        note,
                    )
                )
            for label, path in (("GET /bare/ (HTTP alone)", "/bare/"), ("GET /healthz (the twin's floor)", "/healthz")):
                floor_ms = timed(lambda i, path=path: client.get(path), args.repeat)
                table.add_row(label, f"{pct(floor_ms, 50):.2f}", f"{pct(floor_ms, 95):.2f}", *[""] * 7)
            console.print(table)
            report(rows)
        bare.close()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
