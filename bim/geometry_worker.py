# mypy: disable-error-code="no-untyped-call"
"""The geometry worker: ``python -m bim.geometry_worker``, one job read from stdin, then exit.

Started ahead of its job by :mod:`bim.geometry_process`, it imports ifcopenshell, tessellates a
tiny model (:mod:`bim.geometry_warmup`) unless its job is already there, and waits. The job is a
pickled ``(path, share, shares)``: tessellate share number ``share`` of the file's elements split
``shares`` ways (:func:`bim.geometry_shares.split`; all of them when it is one). GLBs are in the
model's world frame, re-centred when it is far from the origin: the worker judges that offset
alone, without reading the georeference (PROJ's set-up took 2–3 ms of a small file's critical
path), since no georeference moves it. On stdout it says ``("ready", None)`` once imported and
warmed up, then ``("progress", percent)`` as it goes and ``("done", Tessellation)`` or
``("failed", why)``; nothing else may write there: anything printed goes to stderr instead. The
parent writes the GLBs from every share's part; it checked the file, and kills this worker if the
file or the structure fails. Once its last word is sent it
leaves at once, without the interpreter's teardown (ifcopenshell's and the kernel's modules took
80–100 ms to unload, while the parent waited to reap it and the next spare started beside it).
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import sys
from typing import IO

import ifcopenshell

from bim.frame import Frame
from bim.geometry import tessellate
from bim.geometry_shares import split
from bim.geometry_warmup import warm_up
from bim.georef import recentring_offset
from bim.reader import anchor_positions


def main() -> None:
    """Wait for the job, run it, report."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if not select.select([sys.stdin], [], [], 0)[0]:  # a job sent with the start (the CLI) goes first
        _warm_up()
    try:
        _send(out, ("ready", None))
        path, share, shares = pickle.load(sys.stdin.buffer)
        _send(out, _run(path, share, shares, out))
    except (EOFError, BrokenPipeError):  # the parent went away (a spare nobody needed): nothing to say
        pass
    sys.stderr.flush()
    os._exit(0)


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - only a head start: the job's own run reports a broken kernel, naming its file
        return


def _run(path: str, share: int, shares: int, out: IO[bytes]) -> tuple[str, object]:
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
        offset = recentring_offset(anchor_positions(model, Frame(model)))
        mine = split(model, shares)[share] if shares > 1 else None
        part = tessellate(model, offset, progress, share=mine)
    except Exception as exc:  # noqa: BLE001 - the whole stage failed: the parent is told why, keeps the old files
        return ("failed", f"{type(exc).__name__}: {exc}")
    part.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    part.cpu_s = _cpu_s() - started
    return ("done", part)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _send(out: IO[bytes], message: tuple[str, object]) -> None:
    pickle.dump(message, out)
    out.flush()


if __name__ == "__main__":
    main()
