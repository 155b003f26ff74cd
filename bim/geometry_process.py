"""Tessellation in processes of their own, one per core, so the structure and the store run beside it.

ifcopenshell's one-thread iterator keeps the interpreter lock while it tessellates: read on a
thread beside it, the structure and the graph writes added their whole time to the import
(Office_A took 1.75× the bare iterator), and its own threads were slower than one (Office_A
4.7 s with two against 2.7 s with one on 2 cores). In child processes they run truly side by
side. Each child parses the file itself, at the same time as the parent does, and tessellates
its share of the elements (:func:`bim.geometry_shares.split`); the parent writes the GLBs from
all the parts and swaps them in. Progress and the parts come back as pickles over pipes, read by
one relay thread per child.

A fresh interpreter spends 0.6–0.9 s importing ifcopenshell, and its first tessellation is 20–70
ms slower than the next (the shared small files), so the workers are started ahead (:func:`warm`,
when the importer is built), tessellate a tiny model and wait for their one job; the importer
starts the next spares once its job has ended, not when the workers answered: a spare's imports
beside the job's last writes made them slower (PCERT Hvac's final job update took 6–11 ms against
4). One job per worker returns its memory to the system and keeps a crash to one
import; a new interpreter rather than a fork, because the server has threads and open database
connections a fork would copy (multiprocessing's fork server would re-import the server's main
module for every child).
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from bim.geometry import GeometryResult, Progress, Tessellation, staging_dir, swap, write_parts
from bim.model import BimGeoref

MAX_WORKERS = 4
"""Workers for one file at most: each parses the whole file and holds it (≈100 MB for Office_A).

Measured on 2 cores only; past a few, a worker's own parse (a tenth of its time on Office_A)
and its memory weigh more against the shrinking share it tessellates.
"""
BYTES_PER_WORKER = 1_000_000
"""A file gets one worker per this many bytes (up to :func:`workers`).

A worker of its own costs a file its parse, its share's estimate and the iterator's set-up again
(0.1 s on PCERT Architecture, 0.23 MB), and takes processor time from the structure beside it:
the PCERT files took longer split in two, while Duplex_Electrical (1.6 MB) and up were faster.
"""
_lock = threading.Lock()


@dataclass
class _Spare:
    """A started worker, and whether :func:`warm` has read its "ready" (the relay skips it otherwise)."""

    process: subprocess.Popen[bytes]
    ready: bool = False


_spares: list[_Spare] = []


class GeometryRun(Protocol):
    """A geometry stage under way: wait for its result, or stop it."""

    def result(self) -> GeometryResult:
        """Wait for the GLBs; on success they are in place, else ``error`` says why not."""

    def cancel(self) -> None:
        """Stop and leave nothing behind (the structure or the store failed)."""


class GeometrySource(Protocol):
    """Start tessellating ``path`` into ``out_dir``; the importer takes one (tests take a fake)."""

    def __call__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> GeometryRun:
        """Return the running stage at once."""


def workers() -> int:
    """Return how many processes tessellate one file: one per core, the structure sharing them."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def workers_for(path: Path) -> int:
    """Return how many workers tessellate the file at ``path``: one per BYTES_PER_WORKER, one at least."""
    try:
        size = path.stat().st_size
    except OSError:  # the worker finds it missing and says so: the stage's failure
        size = 0
    return max(1, min(workers(), -(-size // BYTES_PER_WORKER)))


def warm(*, wait: bool = False) -> None:
    """Start spare workers until :func:`workers` wait: their imports then run before a job needs them.

    ``wait`` returns only once they have imported (a benchmark measuring the server's warm path).
    """
    with _lock:
        _spares[:] = [spare for spare in _spares if spare.process.poll() is None]
        while len(_spares) < workers():
            _spares.append(_Spare(_start()))
        for spare in _spares if wait else ():
            if not spare.ready:
                assert spare.process.stdout is not None
                pickle.load(spare.process.stdout)
                spare.ready = True


@atexit.register
def _retire_spares() -> None:
    """Let the spare workers go with the process: their stdin closes, they read the end and exit."""
    with _lock:
        retired = [spare.process for spare in _spares]
        _spares.clear()
    for worker in retired:
        for stream in (worker.stdin, worker.stdout):
            if stream is not None:
                stream.close()
    for worker in retired:
        try:
            worker.wait(5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _take(count: int) -> list[subprocess.Popen[bytes]]:
    with _lock:
        alive = [spare.process for spare in _spares if spare.process.poll() is None]
        taken, rest = alive[:count], alive[count:]
        _spares[:] = [spare for spare in _spares if spare.process in rest]
    return taken + [_start() for _ in range(count - len(taken))]


def _start() -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "bim.geometry_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )


class GeometryProcess:
    """The GLBs of one file, tessellated by worker processes, each a share, and written here."""

    def __init__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> None:
        """Hand the job to the workers at once: they parse while the caller parses and reads the structure.

        ``georef`` is not theirs: no georeference moves the GLBs (:mod:`bim.geometry_worker`).
        """
        self._out_dir = out_dir
        self._progress = progress
        self._lock = threading.Lock()
        self._problem: Exception | None = None
        self._workers = _take(workers_for(path))
        count = len(self._workers)
        self._percents = [0] * count
        self._reported = -1
        self._parts: list[Tessellation | None] = [None] * count
        self._errors: list[str] = []
        self._answered = [threading.Event() for _ in range(count)]
        for share, worker in enumerate(self._workers):
            assert worker.stdin is not None
            try:
                with worker.stdin as job:
                    pickle.dump((str(path), share, count), job)
            except BrokenPipeError:  # the worker died waiting: its relay reports it as the stage's failure
                pass
        self._relays = [
            threading.Thread(target=self._listen, args=(share,), name=f"bim-geometry-relay-{share}", daemon=True)
            for share in range(count)
        ]
        for relay in self._relays:
            relay.start()

    def result(self) -> GeometryResult:
        """Wait for the workers' last words (not their exits); write the GLBs and swap them in when all succeeded."""
        for answered in self._answered:
            answered.wait()
        if self._problem is not None:
            raise self._problem
        if self._errors:
            return _failure(self._errors[0])
        return self._write([part for part in self._parts if part is not None])

    def cancel(self) -> None:
        """Kill the workers; nothing was written."""
        for worker in self._workers:
            worker.kill()
        for relay in self._relays:
            relay.join()

    def _write(self, parts: list[Tessellation]) -> GeometryResult:
        staging = staging_dir(self._out_dir)
        try:
            result = write_parts(parts, staging, self._out_dir)
        except Exception as exc:  # noqa: BLE001 - as a worker's failure: the stage failed, the old files stay
            shutil.rmtree(staging, ignore_errors=True)
            return _failure(f"{type(exc).__name__}: {exc}")
        swap(staging, self._out_dir)
        return replace(result, peak_mb=sum(p.peak_mb for p in parts), cpu_s=sum(p.cpu_s for p in parts))

    def _listen(self, share: int) -> None:
        """Relay a worker's messages; its result is taken at its last word, and the process reaped after."""
        worker = self._workers[share]
        assert worker.stdout is not None
        with worker.stdout as messages:
            try:
                while True:
                    kind, payload = pickle.load(messages)
                    if kind == "progress":
                        self._advance(share, payload)
                    elif kind == "done":
                        self._parts[share] = payload
                        self._answered[share].set()
                    elif kind == "failed":
                        self._fail(payload)
                        self._answered[share].set()
            except (EOFError, OSError, pickle.UnpicklingError):
                pass
        code = worker.wait()
        if self._parts[share] is None:
            self._fail(f"the geometry process ended without a result (exit code {code})")
        self._answered[share].set()

    def _advance(self, share: int, percent: int) -> None:
        with self._lock:
            self._percents[share] = percent
            overall = sum(self._percents) // len(self._percents)
            if self._progress is None or self._problem is not None or overall == self._reported:
                return
            self._reported = overall
            try:
                self._progress("geometry", overall, 100)
            except Exception as exc:  # noqa: BLE001 - the caller's callback: re-raised by result()
                self._problem = exc

    def _fail(self, error: str) -> None:
        """Keep the first failure and stop the other workers: the stage has failed as a whole."""
        with self._lock:
            self._errors.append(error)
        for worker in self._workers:
            worker.kill()


def _failure(error: str) -> GeometryResult:
    return GeometryResult([], [], [], error=error)
