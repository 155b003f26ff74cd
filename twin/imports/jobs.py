"""Import job rows: created, started, advanced, finished or failed — and read back, within scope.

Status changes other than "done" are written in short transactions of their own, so the job is
readable while its import runs and its failure is recorded after the import rolled back. Each
change records an ``import`` registry event on the job's site, published after its commit, so
the live hub can carry progress to the screens that watch that site.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from twin.auth.scope import place_condition, principal_of
from twin.errors import NotFoundError
from twin.events import Action, EventBus, RegistryEvent, record
from twin.graph.paths import scopes
from twin.imports.model import ImportOutcome, ImportRequest, JobStatus
from twin.store.base import utcnow
from twin.store.engine import session_factory
from twin.store.imports import ImportJobRow
from twin.store.models import PlaceRow

MAX_WARNINGS = 1000
"""Warnings kept on a job; the count says how many there were in all."""


class JobPublic(BaseModel):
    """An import job as the API and ``--json`` show it."""

    id: int
    kind: str
    file_name: str
    site_id: int | None
    status: JobStatus
    progress: float
    stage: str
    options: dict[str, Any]
    counts: dict[str, Any]
    summary: dict[str, Any]
    warnings: list[str]
    warning_count: int
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_public(row: ImportJobRow) -> JobPublic:
    """Render a job row."""
    return JobPublic.model_validate(row, from_attributes=True)


class _Announced(Protocol):
    """What a job's event says of it: a row, or the columns an UPDATE returned."""

    id: int
    status: str
    progress: float
    stage: str
    file_name: str
    path: str | None


_ANNOUNCED = (
    ImportJobRow.id,
    ImportJobRow.status,
    ImportJobRow.progress,
    ImportJobRow.stage,
    ImportJobRow.file_name,
    ImportJobRow.path,
)


def _announce(session: Session, action: Action, row: _Announced) -> None:
    data = {"status": row.status, "progress": round(row.progress, 4), "stage": row.stage, "file": row.file_name}
    record(session, RegistryEvent(action, "import", row.id, scopes(row.path) if row.path else (), data))


def _updated(session: Session, job_id: int, **values: Any) -> _Announced | None:
    """Write some columns of a job and return what its event says, in one round trip (UPDATE … RETURNING).

    A look-up and an update were two, in every status change of every job. Only the announced
    columns come back: the whole row made an ORM object of the counts, summary and warnings just
    sent (2 ms of the done job's update on PCERT Hvac). An UPDATE of columns
    no key is made of locks the row FOR NO KEY UPDATE, which the import's own transaction does not
    block while it holds the row FOR KEY SHARE (its GIS features reference their job): progress
    is written from a timer thread while that transaction is open, and FOR UPDATE waited for it.
    """
    stmt = update(ImportJobRow).where(ImportJobRow.id == job_id).values(**values).returning(*_ANNOUNCED)
    row: _Announced | None = session.execute(stmt, execution_options={"synchronize_session": False}).one_or_none()
    return row


def _change(engine: Engine, events: EventBus, job_id: int, **values: Any) -> None:
    """Write some columns of a job in a transaction of its own, and announce the change."""
    with session_factory(engine)() as session:
        events.bind(session)
        with session.begin():
            row = _updated(session, job_id, **values)
            if row is not None:
                _announce(session, "update", row)


def create_job(engine: Engine, events: EventBus, request: ImportRequest, site_path: str | None) -> int:
    """Record a queued job for a request and return its id."""
    with session_factory(engine)() as session:
        events.bind(session)
        with session.begin():
            row = ImportJobRow(
                kind=request.kind.value,
                file_name=request.file_name,
                stored_path=str(request.path),
                site_id=request.site.id if site_path else None,
                path=site_path,
                options=dict(request.options) | ({"site_name": request.site.name} if request.site.name else {}),
                status=JobStatus.QUEUED.value,
                progress=0.0,
                stage="queued",
                counts={},
                summary={},
                warnings=[],
                warning_count=0,
                created_by=request.created_by,
            )
            session.add(row)
            session.flush()
            _announce(session, "create", row)
            return row.id


def mark_running(engine: Engine, events: EventBus, job_id: int) -> None:
    """Record that a job's import has started."""
    _change(engine, events, job_id, status=JobStatus.RUNNING.value, stage="starting", started_at=utcnow())


def mark_progress(engine: Engine, events: EventBus, job_id: int, stage: str, fraction: float) -> None:
    """Record how far a running import is."""
    _change(engine, events, job_id, stage=stage[:200], progress=min(max(fraction, 0.0), 1.0))


def mark_failed(engine: Engine, events: EventBus, job_id: int, error: str) -> None:
    """Record why an import failed; what it would have written was rolled back."""
    _change(engine, events, job_id, status=JobStatus.FAILED.value, stage="failed", error=error, finished_at=utcnow())


def mark_done(session: Session, job_id: int, outcome: ImportOutcome) -> None:
    """Record an import's outcome inside its own transaction, so both commit together.

    The job takes its site's path in the same statement: the site row the import worked with may
    no longer be in the session, and loading it was a round trip of its own.
    """
    row = _updated(
        session,
        job_id,
        status=JobStatus.DONE.value,
        stage="done",
        progress=1.0,
        site_id=outcome.site_id,
        path=select(PlaceRow.path).where(PlaceRow.id == outcome.site_id).scalar_subquery(),
        counts=outcome.counts,
        summary=outcome.summary,
        warnings=_kept(outcome.warnings),
        warning_count=len(outcome.warnings),
        error=None,
        finished_at=utcnow(),
    )
    if row is None:
        raise NotFoundError(f"import {job_id} not found")
    _announce(session, "update", row)


def _kept(warnings: Sequence[str]) -> list[str]:
    if len(warnings) <= MAX_WARNINGS:
        return list(warnings)
    return [*warnings[:MAX_WARNINGS], f"… and {len(warnings) - MAX_WARNINGS} more warnings"]


def get_job(session: Session, job_id: int) -> ImportJobRow:
    """Load a job the session's principal may see: one on a site in their scope, or one they started."""
    row = session.scalar(select(ImportJobRow).where(ImportJobRow.id == job_id, _visible(session)))
    if row is None:
        raise NotFoundError(f"import {job_id} not found")
    return row


def list_jobs(session: Session, site_id: int | None = None, limit: int = 50) -> list[ImportJobRow]:
    """Return the latest jobs the session's principal may see, newest first."""
    stmt = select(ImportJobRow).where(_visible(session))
    if site_id is not None:
        stmt = stmt.where(ImportJobRow.site_id == site_id)
    return list(session.scalars(stmt.order_by(ImportJobRow.id.desc()).limit(limit)))


def _visible(session: Session) -> Any:
    principal = principal_of(session)
    in_scope = place_condition(session, ImportJobRow.path)
    if principal is None:
        return in_scope
    return in_scope | (ImportJobRow.created_by == principal.username)
