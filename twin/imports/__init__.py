"""Import jobs: files in, the graph changed in one transaction, progress and outcome recorded.

The twin declares the :class:`Importer` interface; ``bim`` and ``gis`` implement it and the
composition root (``twin/app.py``, ``twin/cli.py``) registers them with an
:class:`ImporterRegistry`. The API and the CLI both go through :class:`ImportRunner`.
"""

from twin.imports.importer import BeginsEarly, Importer, ImporterRegistry
from twin.imports.jobs import JobPublic, get_job, job_public, list_jobs
from twin.imports.model import (
    HeadStart,
    ImportContext,
    ImportInputError,
    ImportKind,
    ImportOutcome,
    ImportRequest,
    JobStatus,
    Progress,
    SiteRef,
)
from twin.imports.runner import ImportRunner

__all__ = [
    "BeginsEarly",
    "HeadStart",
    "ImportContext",
    "ImportInputError",
    "ImportKind",
    "ImportOutcome",
    "ImportRequest",
    "ImportRunner",
    "Importer",
    "ImporterRegistry",
    "JobPublic",
    "JobStatus",
    "Progress",
    "SiteRef",
    "get_job",
    "job_public",
    "list_jobs",
]
