"""Time the whole import job — IFC read, GLBs, and the graph stored in PostGIS — against the bare iterator.

Usage: ``python bench/bench_import.py [--files NAME ...] [--repeat 3]``. Starts a throw-away
PostGIS cluster; for each file of ``../shared/data/ifc`` runs ifcopenshell's bare geometry
iterator (one thread, default settings) and the import job the API runs (``ImportRunner`` with
the IFC importer, into a fresh migrated database), each in a fresh child process of the same run.
Prints seconds and their ratio (with the geometry workers, one per core, started ahead, as in the
server, and cold, as in the CLI), when the graph was committed, peak memory, GLB size against IFC
size, and the processor seconds of each side, which load elsewhere on a shared machine disturbs
least.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ifc import SHARED_IFC, _cpu_s, _peak_mb, bare  # noqa: E402
from bench.table import Row, report  # noqa: E402


def job(path: str, url: str, assets: str, cold: str, out: Connection) -> None:
    """Run one import job as the server's worker does; report its times, peak memory and GLB bytes.

    Warm (``cold`` empty), the geometry workers have finished their imports before the clock starts,
    as in a server that built its importer at start-up; cold, they start with the job, as in the CLI.
    """
    from sqlalchemy import select

    from bim.geometry_process import warm, workers_for
    from bim.store import GRAPH_READY, IfcImporter
    from twin.events import EventBus
    from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, SiteRef
    from twin.store.engine import make_engine, session_factory
    from twin.store.imports import ImportJobRow

    engine = make_engine(url)
    if not cold:
        warm(wait=True)
    started, cpu = time.perf_counter(), _cpu_s()
    runner = ImportRunner(engine, EventBus(), ImporterRegistry([IfcImporter()]), Path(assets))
    marks: dict[str, float] = {}

    def listener(stage: str, fraction: float) -> None:
        marks.setdefault(stage, time.perf_counter() - started)

    request = ImportRequest(ImportKind.IFC, Path(path), Path(path).name, SiteRef(name="bench"), created_by="bench")
    job_id = runner.run(request, listener)
    elapsed, job_cpu = time.perf_counter() - started, _cpu_s() - cpu
    with session_factory(engine)() as session:
        row = session.scalars(select(ImportJobRow).where(ImportJobRow.id == job_id)).one()
        assert row.status == "done", row.error
        worker, glb = row.summary["geometry"], row.counts["glb_bytes"]
    engine.dispose()
    ready = marks[GRAPH_READY]
    writes = ready - marks["storing the graph"]
    peak = _peak_mb() + worker["peak_mb"]
    out.send((elapsed, ready, writes, peak, glb, worker["cpu_s"], job_cpu, workers_for(Path(path))))


def _child(target: Callable[..., None], *args: str) -> tuple[float, ...]:
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=target, args=(*args, send))
    child.start()
    result: tuple[float, ...] = receive.recv()
    child.join()
    return result


def main() -> int:
    """Print one row per file; skip with a message when the shared data is absent."""
    from twin.services import PostgresCluster
    from twin.services.system import free_port
    from twin.store.engine import upgrade

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="file names inside ../shared/data/ifc (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts (default 3)")
    args = parser.parse_args()
    if not SHARED_IFC.is_dir():
        print(f"skipped: {SHARED_IFC.relative_to(ROOT.parent)} is absent (clone ../shared here)")
        return 0
    files = [SHARED_IFC / name for name in args.files] if args.files else sorted(SHARED_IFC.glob("*.ifc"))
    root = Path(tempfile.mkdtemp(prefix="twin-bench-import-"))
    root.chmod(0o755)
    (root / "pg").mkdir()
    (root / "pg").chmod(0o755)
    cluster = PostgresCluster(root / "pg" / "data", free_port(), database="template_bench", fast_and_unsafe=True)
    try:
        cluster.start()
        upgrade(cluster.url("template_bench"))
        cores = multiprocessing.cpu_count()
        print(f"cores: {cores}; bare: 1 thread; job: read + GLBs + graph in PostGIS; best of {args.repeat}")
        header = (
            f"{'file':<38} {'IFC MB':>6} {'bare s':>6} {'job s':>6} {'ratio':>5} {'cold s':>6} {'ratio':>5} "
            f"{'graph s':>7} {'lock s':>6} {'peak MB':>7} {'bare pk':>7} {'GLB/IFC':>7} "
            f"{'bare cpu':>8} {'geom cpu':>8} {'main cpu':>8} {'workers':>7}"
        )
        print(header)
        print("-" * len(header))
        rows = []
        for number, path in enumerate(files):
            runs = []
            for attempt in range(max(1, args.repeat)):
                urls = []
                for mode in ("warm", "cold"):
                    name = f"bench_{number}_{attempt}_{mode}"
                    cluster.ensure_database(name, template="template_bench")
                    urls.append((cluster.url(name), str(root / name)))
                # Alternate the three so a burst of load elsewhere on the machine hits them alike.
                runs.append(
                    (
                        _child(bare, str(path)),
                        _child(job, str(path), *urls[0], ""),
                        _child(job, str(path), *urls[1], "cold"),
                    )
                )
            base_s, _, _, base_mb, base_cpu = min((r[0] for r in runs), key=lambda r: r[0])
            job_s, ready_s, lock_s, job_mb, glb, worker_cpu, main_cpu, shares = min(
                (r[1] for r in runs), key=lambda r: r[0]
            )
            cold_s = min(r[2][0] for r in runs)
            size = path.stat().st_size
            print(
                f"{path.name[:38]:<38} {size / 1e6:>6.2f} {base_s:>6.2f} {job_s:>6.2f} {job_s / base_s:>5.2f} "
                f"{cold_s:>6.2f} {cold_s / base_s:>5.2f} {ready_s:>7.2f} {lock_s:>6.2f} {job_mb:>7.0f} "
                f"{base_mb:>7.0f} {glb / size:>7.2f} {base_cpu:>8.2f} {worker_cpu:>8.2f} {main_cpu:>8.2f} "
                f"{shares:>7.0f}"
            )
            rows += [
                Row(
                    "IFC import",
                    f"{path.name[:30]} · job",
                    job_s,
                    base_s,
                    "s",
                    goal="≤ 1.1× bare",
                    ok=job_s <= 1.1 * base_s,
                    note="bare: geometry iterator",
                ),
                Row("IFC import", f"{path.name[:30]} · cold job (CLI)", cold_s, base_s, "s"),
            ]
        print(
            "job s: the geometry workers started ahead (the server); cold s: started with the job (the CLI).\n"
            "graph s: until the graph is committed (devices queryable); lock s: graph writes holding the\n"
            "audit lock; peak MB: the job's process plus its geometry workers' peaks; GLB/IFC: bytes over\n"
            "bytes. cpu: processor seconds (user + system) of the bare iterator, of the job's geometry\n"
            "workers together and of the job's own process (PostgreSQL's not counted), from the fastest runs.\n"
            "workers: geometry worker processes the file was split between (one per MB, one per core at most)."
        )
        report(rows)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
