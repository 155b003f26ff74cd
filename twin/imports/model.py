"""What an import is, as the twin sees it: a request, the context an importer runs in, its outcome.

The twin does not know IFC or GIS: an importer (``bim.store``, ``gis.store``) receives an
:class:`ImportContext` — an open transaction it may commit once midway, a progress callback and a
place to stage files —
and returns an :class:`ImportOutcome`. Everything here is plain data, so the API, the CLI and
the runner speak of imports without importing ``bim`` or ``gis``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from twin.errors import TwinError


class ImportKind(StrEnum):
    """What a file holds: a BIM model or a GIS layer."""

    IFC = "ifc"
    GIS = "gis"


class JobStatus(StrEnum):
    """Where a job is: queued → running → done | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportInputError(TwinError):
    """Input an import refuses (a bad file, option or site); nothing of it is written."""


@dataclass(frozen=True, slots=True)
class SiteRef:
    """The site an import goes into: an existing site's id, or a name (created when new)."""

    id: int | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> SiteRef:
        """Read ``--site``: digits are an id, anything else a name."""
        text = text.strip()
        if not text:
            raise ImportInputError("the site is empty", "give a site id or a site name")
        return cls(id=int(text)) if text.isascii() and text.isdigit() else cls(name=text)

    def __str__(self) -> str:
        return f"site {self.id}" if self.id is not None else f"site {self.name!r}"


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """One file to import: where it is stored, what it was called, where it goes, with which options."""

    kind: ImportKind
    path: Path
    file_name: str
    site: SiteRef
    options: Mapping[str, Any] = field(default_factory=dict)
    """JSON-safe options; each importer reads and checks its own (building, layer, crs…)."""
    created_by: str = "system"
    address: str | None = None


Progress = Callable[[str, float], None]
"""Called with (stage text, overall fraction 0..1); may be called from any thread."""


class HeadStart(Protocol):
    """Work an importer began on a request before its job was recorded (see :class:`~twin.imports.BeginsEarly`)."""

    def cancel(self) -> None:
        """Stop it and leave nothing behind: the job failed before the importer's ``run`` took it over."""

    def close(self) -> None:
        """The job has ended, committed or failed: prepare for the next (the IFC importer's spare workers)."""


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What an importer works with: the one transaction, the request, progress, and file staging."""

    session: Session
    request: ImportRequest
    job_id: int
    assets: Path
    """The root of served files (GLBs…): files meant to be served go through ``stage``; an importer
    may keep scratch files under ``.incoming`` (same file system, so staging them is a rename)."""
    progress: Progress
    stage: Callable[[Path], Path]
    """Return a folder to write the files meant for ``final`` into; they replace ``final`` on commit."""
    checkpoint: Callable[[str], None]
    """Commit what is written so far as a transaction of its own and announce ``stage`` (the IFC
    importer's "graph ready"): screens may use it while the import goes on. A failure after it
    keeps what it committed; the job's error says so."""
    head_start: HeadStart | None = None
    """What the importer's ``begin`` started for this request, if it has one; from ``run`` on it is
    the importer's to finish or cancel."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: the site it went into, counts, a summary of changes, warnings."""

    site_id: int
    counts: dict[str, int]
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
