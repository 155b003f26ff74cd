"""Imports against a real PostGIS: a runner with both importers, wired as the composition root does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bim.store import IfcImporter
from gis.store import GisImporter
from twin.events import EventBus
from twin.imports import (
    ImporterRegistry,
    ImportKind,
    ImportRequest,
    ImportRunner,
    JobPublic,
    SiteRef,
    get_job,
    job_public,
)
from twin.store.engine import make_engine, session_factory


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's private database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """Where the runner serves files from."""
    return tmp_path / "assets"


@pytest.fixture
def runner(engine: Engine, assets: Path) -> Iterator[ImportRunner]:
    """A runner with the IFC and GIS importers, as the composition root wires it."""
    runner = ImportRunner(engine, EventBus(), ImporterRegistry([IfcImporter(), GisImporter()]), assets)
    yield runner
    runner.close()


def run_import(runner: ImportRunner, importer: str, path: Path, site: str | int, **options: object) -> JobPublic:
    """Run one import in the foreground and return its finished job."""
    request = ImportRequest(
        kind=ImportKind(importer),
        path=path,
        file_name=path.name,
        site=SiteRef.parse(str(site)),
        options={k: v for k, v in options.items() if v is not None},
        created_by="test",
    )
    job_id = runner.run(request)
    with session_factory(runner.engine)() as session:
        return job_public(get_job(session, job_id))
