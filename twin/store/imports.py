"""The import jobs: one row per IFC or GIS file handed to the twin, from upload to its outcome.

A job is written outside the import's own transaction (queued, running, progress), so that its
status stays readable while the import runs and survives the import's rollback; the import
marks it done in its own transaction, so "done" and the data it describes commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store import models  # noqa: F401  (the sites table this one refers to)
from twin.store.base import Base
from twin.store.ltree import LTree

JOB_STATUSES = ("queued", "running", "done", "failed")
JOB_KINDS = ("ifc", "gis")


class ImportJobRow(Base):
    """One import: what was given, by whom, into which site, how far it got and what it changed."""

    __tablename__ = "import_jobs"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    path: Mapped[str | None] = mapped_column(LTree())
    """The site's path once the site is known: scope filters read it like any place-bound row."""
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="queued")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSONB, default=list)
    warning_count: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('ifc', 'gis')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        Index("ix_import_jobs_site", "site_id", "created_at"),
        Index("ix_import_jobs_path", "path", postgresql_using="gist"),
    )
