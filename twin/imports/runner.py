"""Run import jobs: in a worker thread for the API, in the foreground for the CLI — the same code.

An import is one transaction, or two when the importer commits midway (:attr:`ImportContext.
checkpoint`: the IFC importer commits the spatial graph before its geometry is done). The files
it staged are swapped in just before the last commit (and back if that commit fails), and the
job is marked done in that same transaction. An exception rolls back what was not committed,
and the job is marked failed with a message naming what was wrong — and what a checkpoint kept.
One worker thread runs the jobs one at a time: two imports of one site must not interleave.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from twin.errors import TwinError
from twin.events import EventBus
from twin.imports.importer import BeginsEarly, Importer, ImporterRegistry
from twin.imports.jobs import create_job, mark_done, mark_failed, mark_progress, mark_running
from twin.imports.model import HeadStart, ImportContext, ImportRequest
from twin.imports.staging import StagedDir
from twin.store.engine import session_factory

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""Progress is written to the job at most this often (and at every new stage)."""

Listener = Callable[[str, float], None]


class ImportRunner:
    """Create, run and record import jobs against one database."""

    def __init__(self, engine: Engine, events: EventBus, registry: ImporterRegistry, assets: Path) -> None:
        self.engine = engine
        self.events = events
        self.registry = registry
        self.assets = assets
        self._pool: ThreadPoolExecutor | None = None
        self._queued: dict[int, Future[None]] = {}

    def create(self, request: ImportRequest, site_path: str | None = None) -> int:
        """Record a queued job for a request and return its id; refuse bad options before any work."""
        self._checked(request)
        return create_job(self.engine, self.events, request, site_path)

    def submit(self, request: ImportRequest, site_path: str | None = None) -> int:
        """Queue a job to run in the worker thread; return its id at once."""
        job_id = self.create(request, site_path)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")
        future = self._pool.submit(self.execute, job_id, request)
        self._queued[job_id] = future
        future.add_done_callback(lambda _: self._queued.pop(job_id, None))
        return job_id

    def run(self, request: ImportRequest, listener: Listener | None = None) -> int:
        """Run a job in the calling thread (the CLI); return its id once it is done or failed.

        An importer that begins early (:class:`BeginsEarly`) begins before the job is recorded.
        """
        head_start = self._begin(self._checked(request), request)
        try:
            job_id = create_job(self.engine, self.events, request, None)
        except BaseException:
            if head_start is not None:
                head_start.cancel()
                head_start.close()
            raise
        self.execute(job_id, request, listener, head_start)
        return job_id

    def close(self) -> None:
        """Finish the running job, and record the queued ones as failed: the server is stopping.

        A later :meth:`submit` starts a new worker (a test client may start the same app twice).
        """
        for job_id, future in list(self._queued.items()):
            if future.cancel():
                mark_failed(self.engine, self.events, job_id, "the server stopped before this import ran")
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def execute(
        self, job_id: int, request: ImportRequest, listener: Listener | None = None, head_start: HeadStart | None = None
    ) -> None:
        """Run one job to its end; never raises (the job records the failure).

        ``head_start`` is what the importer began for the request already; else it begins here,
        before the job is marked running. It is closed once the job has ended.
        """
        staged: list[StagedDir] = []
        kept: list[str] = []
        progress = _Progress(self.engine, self.events, job_id, listener)
        closing = head_start
        try:
            importer = self.registry.get(request.kind)
            if head_start is None:
                head_start = closing = self._begin(importer, request)
            mark_running(self.engine, self.events, job_id)

            def stage(final: Path) -> Path:
                staged.append(StagedDir(final))
                return staged[-1].pending

            with session_factory(self.engine)() as session:
                self.events.bind(session)
                session.info["actor"] = request.created_by
                session.info["address"] = request.address

                def checkpoint(name: str) -> None:
                    session.commit()
                    kept.append(name)
                    progress.announce(name)

                try:
                    context = ImportContext(
                        session, request, job_id, self.assets, progress, stage, checkpoint, head_start
                    )
                    head_start = None  # the importer's from here on
                    outcome = importer.run(context)
                    progress.close()
                    mark_done(session, job_id, outcome)
                    for item in staged:
                        item.promote()
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
            for item in staged:
                item.finish()
        except Exception as exc:  # every failure ends as a failed job, never a lost thread
            progress.close()
            if head_start is not None:
                head_start.cancel()
            for item in reversed(staged):
                item.revert()
            mark_failed(self.engine, self.events, job_id, _message(exc, kept))
            if not isinstance(exc, TwinError):
                log.exception("import %s failed unexpectedly", job_id)
        finally:
            if closing is not None:
                closing.close()

    def _checked(self, request: ImportRequest) -> Importer:
        """Return the request's importer once it has accepted the request's options."""
        importer = self.registry.get(request.kind)
        importer.check_options(request.options)
        return importer

    def _begin(self, importer: Importer, request: ImportRequest) -> HeadStart | None:
        return importer.begin(request, self.assets) if isinstance(importer, BeginsEarly) else None


def _message(exc: Exception, kept: list[str]) -> str:
    text = str(exc) if isinstance(exc, TwinError) else f"internal error ({type(exc).__name__}): {exc}"
    if kept:
        text += f" — what was committed at {kept[-1]!r} is kept, the files staged after it are not"
    return text


class _Progress:
    """Write a job's progress at most every PROGRESS_EVERY_S, from any thread; a checkpoint at once.

    Each write is a transaction of its own (10–15 ms on a busy 2-core machine): written at every
    new stage, as it was, they were a third of a small file's import (utm IFC4X3: 7 writes in a
    0.3 s job). So a new stage waits for the interval too, and a timer writes the latest one when
    it is due and nothing came after it: a stage that lasts is still seen within the interval.
    """

    def __init__(self, engine: Engine, events: EventBus, job_id: int, listener: Listener | None) -> None:
        self._engine, self._events, self._job_id, self._listener = engine, events, job_id, listener
        self._lock = threading.Lock()
        self._stage = ""
        self._fraction = 0.0
        self._written = time.monotonic()  # mark_running writes the row right after
        self._pending = False
        self._timer: threading.Timer | None = None
        self._closed = False

    def announce(self, stage: str) -> None:
        """Write a new stage at once, at the fraction reached (the graph committed: screens may load it)."""
        with self._lock:
            self._stage = stage
            if self._listener is not None:
                self._listener(stage, self._fraction)
            self._write()

    def __call__(self, stage: str, fraction: float) -> None:
        with self._lock:
            self._fraction = max(self._fraction, min(fraction, 1.0))
            self._stage = stage
            if self._listener is not None:
                self._listener(stage, self._fraction)
            wait = PROGRESS_EVERY_S - (time.monotonic() - self._written)
            if wait <= 0:
                self._write()
            elif not self._pending:
                self._pending = True
                self._timer = threading.Timer(wait, self._flush)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        """Stop writing: the job's end is written next, and no late progress may overwrite it."""
        with self._lock:
            self._closed = True
            timer = self._timer
        if timer is not None:
            timer.cancel()
            timer.join()

    def _flush(self) -> None:
        with self._lock:
            if self._pending:
                self._write()

    def _write(self) -> None:
        self._pending = False
        if self._closed:
            return
        self._written = time.monotonic()
        mark_progress(self._engine, self._events, self._job_id, self._stage, self._fraction)
