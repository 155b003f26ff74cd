"""Graph look-ups through the API next to the same SQL run bare, in the same run.

    python bench/bench_graph.py [--devices 100000 --buildings 20 --floors 30] [--repeat 200]

Starts a throw-away PostGIS cluster, fills it with a synthetic community, and prints p50/p95 of
devices-in-floor, within-radius, nearest-N, subtree and address search, through the REST API
(FastAPI's ASGI stack, in process) and as bare indexed psycopg queries, with the ratio.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.graph_data import populate
from twin.app import create_app
from twin.auth import users
from twin.auth.roles import Role
from twin.services import PostgresCluster
from twin.services.system import free_port
from twin.settings import Settings
from twin.store.engine import make_engine, session_factory, upgrade

PASSWORD = "bench password 1"


def timed(fn: Callable[[int], object], repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
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
        with TestClient(create_app(settings, db_url=url)) as client:
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
            table = Table(title=f"graph look-ups · {args.devices:,} devices · {args.repeat} runs each (ms)")
            for column in ("query", "API p50", "API p95", "bare p50", "bare p95", "p95 ratio"):
                table.add_column(column, justify="right")
            for name, (api, sql) in cases.items():
                first = api(0)
                assert first.status_code == 200, first.text
                api_ms, sql_ms = timed(api, args.repeat), timed(sql, args.repeat)
                table.add_row(
                    name,
                    f"{pct(api_ms, 50):.2f}",
                    f"{pct(api_ms, 95):.2f}",
                    f"{pct(sql_ms, 50):.2f}",
                    f"{pct(sql_ms, 95):.2f}",
                    f"{pct(api_ms, 95) / pct(sql_ms, 95):.1f}×",
                )
            console.print(table)
        bare.close()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
