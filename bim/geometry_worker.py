# mypy: disable-error-code="no-untyped-call"
"""The geometry worker: ``python -m bim.geometry_worker``, one job read from stdin, then exit.

Started ahead of its job by :mod:`bim.geometry_process`, it imports ifcopenshell and waits. The
job is a pickled ``(path, staging, final, georef)``; on stdout it says ``("ready", None)`` once
imported, then ``("progress", percent)`` as it goes and ``("done", GeometryResult)``, which nothing else
may write to: anything printed goes to stderr instead. The parent checked the file and kills
this worker if the file or the structure fails.
"""

from __future__ import annotations

import os
import pickle
import resource
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

import ifcopenshell

from bim.frame import Frame
from bim.geometry import GeometryResult, write_files
from bim.reader import locate


def main() -> None:
    """Wait for the job, run it, report."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        with out:
            _send(out, ("ready", None))
            path, staging, final, georef = pickle.load(sys.stdin.buffer)
            _send(out, ("done", _run(path, Path(staging), Path(final), georef, out)))
    except (EOFError, BrokenPipeError):  # the parent went away (a spare nobody needed): nothing to say
        os._exit(0)


def _run(path: str, staging: Path, final: Path, georef: object, out: IO[bytes]) -> GeometryResult:
    sent = -1
    started = _cpu_s()

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal sent
        percent = round(100 * done / total) if total else 100
        if percent != sent:
            sent = percent
            _send(out, ("progress", percent))

    try:
        model = ifcopenshell.open(path)
        offset = locate(model, Frame(model), georef).offset  # type: ignore[arg-type]
        result = write_files(model, staging, final, offset=offset, progress=progress)
    except Exception as exc:  # noqa: BLE001 - the whole stage failed: the parent is told why, keeps the old files
        return GeometryResult([], [], [], error=f"{type(exc).__name__}: {exc}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return replace(result, peak_mb=peak_mb, cpu_s=_cpu_s() - started)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _send(out: IO[bytes], message: tuple[str, object]) -> None:
    pickle.dump(message, out)
    out.flush()


if __name__ == "__main__":
    main()
