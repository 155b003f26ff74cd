# mypy: disable-error-code="no-untyped-call"
"""Time the whole IFC import against ifcopenshell's bare geometry iterator, file by file.

Usage: ``python bench/bench_ifc.py [--files NAME ...]``. For each file of ``../shared/data/ifc``
the bare iterator (one thread, default settings, every element) and our read (``import_ifc``:
the GLBs in the geometry workers, one per core, started ahead as the server starts them, the
structure in the calling process) run in fresh child processes of the same run, so their peak
memory is their own (ours: the process plus its workers'). The table prints seconds, their ratio, GLB size and
peak resident memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_IFC = ROOT.parent / "shared" / "data" / "ifc"
sys.path.insert(0, str(ROOT))

from bench.table import Row, report  # noqa: E402


def bare(path: str, out: Connection) -> None:
    """Iterate the file's geometry the way ifcopenshell's own examples do, on one thread."""
    import ifcopenshell
    import ifcopenshell.geom

    started, cpu = time.perf_counter(), _cpu_s()
    model = ifcopenshell.open(path)
    iterator = ifcopenshell.geom.iterator(ifcopenshell.geom.settings(), model, 1)
    count = 0
    if iterator.initialize():
        while True:
            iterator.get()
            count += 1
            if not iterator.next():
                break
    out.send((time.perf_counter() - started, count, 0, _peak_mb(), _cpu_s() - cpu))


def ours(path: str, out: Connection) -> None:
    """Read the model as the server does: GLBs in the geometry workers (started ahead), structure here."""
    from bim import import_ifc
    from bim.geometry_process import warm

    warm(wait=True)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        _, geometry = import_ifc(Path(path), Path(folder) / "glb")
        elapsed = time.perf_counter() - started
        assert geometry.error is None, geometry.error
        count = sum(f.element_count for f in geometry.files)
        size = sum(f.bytes for f in geometry.files)
    out.send((elapsed, count, size, _peak_mb() + geometry.peak_mb, geometry.cpu_s))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """Return this process's processor seconds, user and system (load elsewhere barely changes them)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(target: Callable[[str, Connection], None], path: Path) -> tuple[float, int, int, float, float]:
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=target, args=(str(path), send))
    child.start()
    result: tuple[float, int, int, float, float] = receive.recv()
    child.join()
    return result


def main() -> int:
    """Print one row per file; skip with a message when the shared data is absent."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="file names inside ../shared/data/ifc (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts (default 3)")
    args = parser.parse_args()
    if not SHARED_IFC.is_dir():
        print(f"skipped: {SHARED_IFC.relative_to(ROOT.parent)} is absent (clone ../shared here)")
        return 0
    files = [SHARED_IFC / name for name in args.files] if args.files else sorted(SHARED_IFC.glob("*.ifc"))
    print(
        f"cores: {multiprocessing.cpu_count()} (bare: 1 thread; ours: geometry in a worker process per "
        f"core, structure in ours); best of {args.repeat}"
    )
    header = (
        f"{'file':<40} {'IFC MB':>7} {'bare s':>7} {'ours s':>7} {'ratio':>6} {'GLB MB':>7} "
        f"{'peak MB':>8} {'bare pk':>8} {'elements bare/ours':>19}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for path in files:
        # Alternate the two so a burst of load elsewhere on the machine hits both alike.
        runs = [(_measure(bare, path), _measure(ours, path)) for _ in range(max(1, args.repeat))]
        base_s, base_n, _, base_mb, _ = min((r[0] for r in runs), key=lambda r: r[0])
        our_s, our_n, glb, our_mb, _ = min((r[1] for r in runs), key=lambda r: r[0])
        print(
            f"{path.name[:40]:<40} {path.stat().st_size / 1e6:>7.2f} {base_s:>7.2f} {our_s:>7.2f} "
            f"{our_s / base_s:>6.2f} {glb / 1e6:>7.2f} {our_mb:>8.0f} {base_mb:>8.0f} {base_n:>9}/{our_n:<9}"
        )
        rows += [
            Row("IFC geometry", f"{path.name[:30]} · seconds", our_s, base_s, "s", note="bare: geometry iterator"),
            Row("IFC geometry", f"{path.name[:30]} · peak memory", our_mb, base_mb, "MB"),
        ]
    # The bare iterator also tessellates IfcSpace and IfcOpeningElement, which we do not draw.
    print("peak MB: ours with its workers; bare pk: the bare iterator's. Each in its own fresh process.")
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
