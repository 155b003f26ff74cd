"""Time the whole import job — IFC read, GLBs, and the graph stored in PostGIS — against the bare iterator.

Usage: ``python bench/bench_import.py [--files NAME ...] [--repeat 3]``. Starts a throw-away
PostGIS cluster; for each file of ``../shared/data/ifc`` runs ifcopenshell's bare geometry
iterator (one thread, default settings) and the import job the API runs (``ImportRunner`` with
the IFC importer, into a fresh migrated database), each in a fresh child process of the same run.
Prints seconds, their ratio, the part spent storing the graph, and peak resident memory.
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

from bench.bench_ifc import SHARED_IFC, _peak_mb, bare  # noqa: E402


def job(path: str, url: str, assets: str, out: Connection) -> None:
    """Run one import job as the server's worker does; report its time, its store part and peak memory."""
    from bim.store import IfcImporter
    from twin.events import EventBus
    from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, SiteRef
    from twin.store.engine import make_engine

    engine = make_engine(url)
    runner = ImportRunner(engine, EventBus(), ImporterRegistry([IfcImporter()]), Path(assets))
    marks: dict[str, float] = {}

    def listener(stage: str, fraction: float) -> None:
        marks.setdefault(stage, time.perf_counter())

    request = ImportRequest(ImportKind.IFC, Path(path), Path(path).name, SiteRef(name="bench"), created_by="bench")
    started = time.perf_counter()
    runner.run(request, listener)
    elapsed = time.perf_counter() - started
    store = elapsed - (marks.get("storing the graph", started + elapsed) - started)
    engine.dispose()
    out.send((elapsed, store, _peak_mb()))


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
        print(f"cores: {multiprocessing.cpu_count()}; bare: 1 thread; job: read + GLBs + graph in PostGIS")
        header = f"{'file':<40} {'bare s':>7} {'job s':>7} {'ratio':>6} {'store s':>8} {'peak MB':>8} {'bare pk':>8}"
        print(header)
        print("-" * len(header))
        for number, path in enumerate(files):
            runs = []
            for attempt in range(max(1, args.repeat)):
                name = f"bench_{number}_{attempt}"
                cluster.ensure_database(name, template="template_bench")
                runs.append((_child(bare, str(path)), _child(job, str(path), cluster.url(name), str(root / name))))
            base_s, _, _, base_mb = min((r[0] for r in runs), key=lambda r: r[0])
            job_s, store_s, job_mb = min((r[1] for r in runs), key=lambda r: r[0])
            print(
                f"{path.name[:40]:<40} {base_s:>7.2f} {job_s:>7.2f} {job_s / base_s:>6.2f} {store_s:>8.2f} "
                f"{job_mb:>8.0f} {base_mb:>8.0f}"
            )
        print("store s: from the first graph write to the commit (the audit lock is held only then).")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
