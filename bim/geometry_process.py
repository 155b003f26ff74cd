"""Tessellation in a process of its own, so the structure and the store have the other core.

ifcopenshell's one-thread iterator keeps the interpreter lock while it tessellates: read on a
thread beside it, the structure and the graph writes added their whole time to the import
(Office_A took 1.75× the bare iterator). In a child process they run truly side by side. The
child parses the file itself, at the same time as the parent does, and writes the GLBs into a
folder the parent chose; the parent swaps them in. Progress and the result come back as pickles
over a pipe, read by a relay thread.

A fresh interpreter spends 0.6–0.9 s importing ifcopenshell, so a worker is started ahead
(:func:`warm`, when the importer is built) and waits for its one job; after each job the next
spare is started. One job per worker returns its memory to the system and keeps a crash to one
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
from pathlib import Path
from typing import IO, Protocol

from bim.geometry import GeometryResult, Progress, staging_dir, swap
from bim.model import BimGeoref

_lock = threading.Lock()
_spare: subprocess.Popen[bytes] | None = None
_spare_ready = False
"""Whether :func:`warm` has read the spare's "ready" (the relay skips it otherwise)."""


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


def warm(*, wait: bool = False) -> None:
    """Start a spare worker unless one is waiting: its imports then run before the job needs it.

    ``wait`` returns only once it has imported (a benchmark measuring the server's warm path).
    """
    global _spare, _spare_ready
    with _lock:
        if _spare is None or _spare.poll() is not None:
            _spare, _spare_ready = _start(), False
        if wait and not _spare_ready:
            assert _spare.stdout is not None
            pickle.load(_spare.stdout)
            _spare_ready = True


@atexit.register
def _retire_spare() -> None:
    """Let the spare worker go with the process: its stdin closes, it reads the end and exits."""
    global _spare
    with _lock:
        worker, _spare = _spare, None
    if worker is None:
        return
    for stream in (worker.stdin, worker.stdout):
        if stream is not None:
            stream.close()
    try:
        worker.wait(5)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _take() -> subprocess.Popen[bytes]:
    global _spare
    with _lock:
        worker, _spare = _spare, None
    if worker is None or worker.poll() is not None:
        worker = _start()
    return worker


def _start() -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "bim.geometry_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )


class GeometryProcess:
    """The GLBs of one file, written by a worker process into a staging folder."""

    def __init__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> None:
        """Hand the job to a worker at once: it parses while the caller parses and reads the structure."""
        self._out_dir = out_dir
        self._staging = staging_dir(out_dir)
        self._outcome = _failure("the geometry process did not report")
        self._problem: Exception | None = None
        self._worker = _take()
        assert self._worker.stdin is not None and self._worker.stdout is not None
        try:
            with self._worker.stdin as job:
                pickle.dump((str(path), str(self._staging), str(out_dir), georef), job)
        except BrokenPipeError:  # the worker died waiting: the relay reports it as the stage's failure
            pass
        self._relay = threading.Thread(
            target=self._listen, args=(self._worker.stdout, progress), name="bim-geometry-relay", daemon=True
        )
        self._relay.start()

    def result(self) -> GeometryResult:
        """Wait for the worker; swap the files in when it wrote them all."""
        self._relay.join()
        warm()
        if self._problem is not None or self._outcome.error is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            if self._problem is not None:
                raise self._problem
        else:
            swap(self._staging, self._out_dir)
        return self._outcome

    def cancel(self) -> None:
        """Kill the worker and delete what it wrote."""
        self._worker.kill()
        self._relay.join()
        warm()
        shutil.rmtree(self._staging, ignore_errors=True)

    def _listen(self, messages: IO[bytes], progress: Progress | None) -> None:
        outcome: GeometryResult | None = None
        with messages:
            try:
                while True:
                    kind, payload = pickle.load(messages)
                    if kind == "progress" and progress is not None and self._problem is None:
                        try:
                            progress("geometry", payload, 100)
                        except Exception as exc:  # noqa: BLE001 - the caller's callback: re-raised by result()
                            self._problem = exc
                    elif kind == "done":
                        outcome = payload
            except (EOFError, OSError, pickle.UnpicklingError):
                pass
        code = self._worker.wait()
        self._outcome = outcome or _failure(f"the geometry process ended without a result (exit code {code})")


def _failure(error: str) -> GeometryResult:
    return GeometryResult([], [], [], error=error)
