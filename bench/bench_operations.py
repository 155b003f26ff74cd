"""Billing imports, payment rates and inspection rounds at the size of a real community, beside bare baselines.

    python bench/bench_operations.py [--towers 6 --floors 18 --units 4 --months 12] [--budget 120]

Starts a throw-away PostGIS cluster, builds towers (units, a corridor and a stair per floor, doors
and stairs in the walking graph, a smoke detector per unit, a hydrant per corridor) and prints:
the CSV import of a year of bills (validated, idempotent, audited) next to a bare COPY of the same
rows into a plain table; the re-import; payment rates per floor next to a bare GROUP BY; a round
planned over every overdue device next to the bare Dijkstra runs it needs.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.table import Row
from bench.table import report as report_rows
from twin.auth import users
from twin.auth.roles import Role
from twin.graph import places
from twin.graph.walking import load_graph, shortest_paths
from twin.operations.billing_import import import_billing
from twin.operations.billing_queries import payment_rates
from twin.operations.inspection_schemas import PlanCreate, RoundCreate
from twin.operations.inspections import create_plan
from twin.operations.rounds import plan_round
from twin.schemas import BuildingCreate, FloorCreate, SiteCreate, SpaceCreate
from twin.services import PostgresCluster
from twin.services.system import free_port
from twin.store.engine import make_engine, session_factory, upgrade
from twin.store.models import DeviceRow, WalkEdgeRow

ITEMS = ("物业费", "水费", "电费")


def build(session, towers: int, floors: int, units: int) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """Create the towers; return the site id and the unit addresses."""
    site = places.create_site(session, SiteCreate(name="Bench", origin_lat=25.07, origin_lon=102.72))
    addresses = []
    for t in range(1, towers + 1):
        x0 = (t - 1) * 60.0
        outline = box(x0, 0, x0 + 10 * units, 20).__geo_interface__
        tower = places.create_building(session, BuildingCreate(site_id=site.id, name=f"{t}栋", footprint_local=outline))
        below = None
        for level in range(1, floors + 1):
            floor = places.create_floor(
                session,
                FloorCreate(
                    building_id=tower.id, name=f"{level}F", level=level, elevation=3.0 * level, outline_local=outline
                ),
            )

            def space(name: str, kind: str, shape: object, address: str | None = None, floor_id: int = floor.id) -> int:
                data = SpaceCreate(
                    floor_id=floor_id, name=name, kind=kind, polygon_local=shape.__geo_interface__, address=address
                )
                return places.create_space(session, data).id

            corridor = space("走廊", "corridor", box(x0, 8, x0 + 10 * units, 12))
            stair = space("楼梯", "stair", box(x0 + 10 * units - 4, 12, x0 + 10 * units, 20))
            edges = [(corridor, stair, "door", 6.0)] + ([(below, stair, "stair", 7.0)] if below else [])
            below = stair
            for n in range(1, units + 1):
                address = f"{t}-1-{level}{n:02d}"
                unit = space(f"{level}{n:02d}室", "unit", box(x0 + 10 * (n - 1), 0, x0 + 10 * n, 8), address)
                addresses.append(address)
                edges.append((unit, corridor, "door", 5.0))
                session.add(
                    DeviceRow(
                        site_id=site.id,
                        place_id=unit,
                        floor_id=floor.id,
                        space_id=unit,
                        path=f"{floor.path}.{unit}",
                        kind="smoke_detector",
                        name=f"烟感 {address}",
                    )
                )
            session.add(
                DeviceRow(
                    site_id=site.id,
                    place_id=corridor,
                    floor_id=floor.id,
                    space_id=corridor,
                    path=f"{floor.path}.{corridor}",
                    kind="hydrant",
                    name=f"{t}栋{level}F 消火栓",
                )
            )
            for a, b, kind, length in edges:
                session.add(WalkEdgeRow(site_id=site.id, from_space_id=a, to_space_id=b, kind=kind, length=length))
    session.flush()
    return site.id, addresses


def export(addresses: list[str], months: int, seed: int = 1) -> bytes:
    """Write a year of monthly bills in the ERP's shape, the payment rate climbing from 70% to 95%."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("单据号,房号,账期,收费项目,应收金额,实收金额,缴费日期\n")
    for m in range(months):
        period = f"2024-{m % 12 + 1:02d}" if months <= 12 else f"{2024 + m // 12}-{m % 12 + 1:02d}"
        pay = 0.70 + 0.25 * m / max(months - 1, 1)
        for i, address in enumerate(addresses):
            for k, item in enumerate(ITEMS):
                due = rng.randrange(3000, 40000) / 100
                paid = due if rng.random() < pay else 0.0
                day = f"{period}-{rng.randrange(1, 28):02d}" if paid else ""
                out.write(f"B{m:03d}{i:05d}{k},{address},{period},{item},{due:.2f},{paid:.2f},{day}\n")
    return out.getvalue().encode()


def seconds(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--towers", type=int, default=6)
    parser.add_argument("--floors", type=int, default=18)
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--budget", type=float, default=120.0)
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
        maker = session_factory(engine)
        with console.status("building the community…"), maker() as session, session.begin():
            site, addresses = build(session, args.towers, args.floors, args.units)
            users.add_user(session, "insp", "bench password 1")
            users.grant(session, "insp", Role.INSPECTOR, site)
            long_ago = datetime.now(UTC) - timedelta(days=60)
            create_plan(
                session,
                PlanCreate(
                    place_id=site,
                    name="月检",
                    every="month",
                    device_kinds=["smoke_detector", "hydrant"],
                    starts_at=long_ago,
                ),
            )
        data = export(addresses, args.months)
        rows = data.count(b"\n") - 1
        with psycopg.connect(cluster.conninfo("bench"), autocommit=True) as bare:
            bare.execute("VACUUM ANALYZE")
            bare.execute(
                "CREATE TABLE bare_bills (ref text, unit text, period text, item text, due numeric(12,2), "
                "paid numeric(12,2), paid_on text)"
            )

            def copy() -> None:
                with bare.cursor().copy("COPY bare_bills FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                    cp.write(data)

            def ours() -> object:
                with maker() as session, session.begin():
                    return import_billing(session, site, data, "bench.csv")

            t_copy, _ = seconds(copy)
            t_import, report = seconds(ours)
            t_again, again = seconds(ours)
            assert report.created == rows and again.unchanged == rows, (report, again)  # type: ignore[attr-defined]

            def rates() -> object:
                with maker() as session:
                    return payment_rates(
                        session, site, "floor", datetime(2024, 1, 1).date(), datetime(2024, 12, 1).date()
                    )

            t_rates, points = seconds(rates)
            t_bare_rates, _ = seconds(
                lambda: bare.execute(
                    "SELECT c.period, subpath(p.path, 2, 1), sum(c.amount_due), sum(coalesce(x.paid, 0)) FROM "
                    "billing_charges c JOIN billing_accounts a ON a.id = c.account_id "
                    "JOIN places p ON p.id = a.unit_id "
                    "LEFT JOIN (SELECT charge_id, sum(amount) paid FROM billing_payments GROUP BY charge_id) x "
                    "ON x.charge_id = c.id GROUP BY 1, 2"
                ).fetchall()
            )

        def round_() -> object:
            with maker() as session, session.begin():
                session.info["actor"] = "bench"
                return plan_round(session, RoundCreate(place_id=site, inspector="insp", budget_minutes=args.budget))

        t_round, (row, plan) = seconds(round_)  # type: ignore[misc]

        def dijkstras() -> None:
            with maker() as session:
                graph = load_graph(session, site)
            for stop in plan.stops:
                shortest_paths(graph, stop.space_id)

        t_dijkstra, _ = seconds(dijkstras)
        engine.dispose()
        table = Table(title=f"operations · {len(addresses)} units · {rows:,} bill rows · one run each (s)")
        for column in ("task", "ours", "bare baseline", "baseline is", "ratio"):
            table.add_column(column, justify="right")
        table.add_row("import CSV", f"{t_import:.2f}", f"{t_copy:.3f}", "COPY, no checks", f"{t_import / t_copy:.0f}×")
        table.add_row(
            "re-import (unchanged)", f"{t_again:.2f}", f"{t_copy:.3f}", "COPY, no checks", f"{t_again / t_copy:.0f}×"
        )
        table.add_row(
            f"rates per floor × 12 ({len(points)} points)",
            f"{t_rates:.3f}",  # type: ignore[arg-type]
            f"{t_bare_rates:.3f}",
            "one GROUP BY",
            f"{t_rates / t_bare_rates:.1f}×",
        )
        table.add_row(
            f"round: {len(plan.stops)} stops, {row.planned_length:.0f} m",
            f"{t_round:.3f}",
            f"{t_dijkstra:.3f}",
            "its Dijkstra runs",
            f"{t_round / t_dijkstra:.1f}×",
        )
        console.print(table)
        console.print(f"import: {rows / t_import:,.0f} rows/s; round candidates skipped: {len(plan.skipped)}")
        report_rows(
            [
                Row("operations", "bill CSV import", t_import, t_copy, "s", note="bare: COPY, no checks"),
                Row("operations", "bill CSV re-import (unchanged)", t_again, t_copy, "s", note="bare: COPY"),
                Row("operations", "payment rates per floor × 12", t_rates, t_bare_rates, "s", note="bare: GROUP BY"),
                Row("operations", "inspection round plan", t_round, t_dijkstra, "s", note="bare: its Dijkstra runs"),
            ]
        )
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
