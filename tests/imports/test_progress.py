"""A job's progress: written at most every PROGRESS_EVERY_S, a lasting stage still seen, nothing after the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.imports.conftest import run_import
from twin.events import EventBus, RegistryEvent
from twin.graph.places import create_site
from twin.imports import ImportContext, ImporterRegistry, ImportKind, ImportOutcome, ImportRunner, JobStatus
from twin.imports.runner import PROGRESS_EVERY_S
from twin.schemas import SiteCreate

Steps = Callable[[ImportContext], None]


class _Scripted:
    """A GIS importer that only reports the stages a test scripts, then creates its site."""

    kind: ImportKind = ImportKind.GIS
    suffixes: tuple[str, ...] = (".geojson",)

    def __init__(self, steps: Steps) -> None:
        self._steps = steps

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Take any options."""

    def check_file(self, path: Path) -> None:
        """Take any file."""

    def run(self, context: ImportContext) -> ImportOutcome:
        """Report the scripted stages; the site makes the outcome a real one."""
        self._steps(context)
        site = create_site(context.session, SiteCreate(name="progress", origin_lat=25.0, origin_lon=102.7))
        return ImportOutcome(site.id, {})


def _run(engine: Engine, tmp_path: Path, steps: Steps) -> tuple[list[tuple[str, str]], JobStatus]:
    """Run a scripted job; return the (status, stage) of every job event and the job's end status."""
    bus = EventBus()
    seen: list[tuple[str, str]] = []

    def listen(event: RegistryEvent) -> None:
        if event.kind == "import":
            seen.append((event.data["status"], event.data["stage"]))

    bus.subscribe(listen)
    runner = ImportRunner(engine, bus, ImporterRegistry([_Scripted(steps)]), tmp_path / "assets")
    file = tmp_path / "layer.geojson"
    file.write_text("{}")
    try:
        job = run_import(runner, "gis", file, site="progress")
    finally:
        runner.close()
    time.sleep(2 * PROGRESS_EVERY_S)  # a write the end failed to stop would land by now
    return seen, job.status


def test_quick_stages_are_coalesced_and_a_lasting_one_is_written(engine: Engine, tmp_path: Path) -> None:
    """Three stages within the interval are one write, of the latest; the job's end is the last event."""

    def steps(context: ImportContext) -> None:
        for number, stage in enumerate(("reading", "checking", "storing")):
            context.progress(stage, 0.1 * (number + 1))
        time.sleep(3 * PROGRESS_EVERY_S)

    seen, status = _run(engine, tmp_path, steps)
    assert status is JobStatus.DONE
    assert seen == [("queued", "queued"), ("running", "starting"), ("running", "storing"), ("done", "done")]


def test_checkpoint_is_written_at_once_and_nothing_after_the_end(engine: Engine, tmp_path: Path) -> None:
    """A checkpoint's stage is written however recent the last write; a stage pending at the end is dropped."""

    def steps(context: ImportContext) -> None:
        context.progress("reading", 0.2)
        context.checkpoint("graph ready")
        context.progress("tessellating", 0.5)

    seen, status = _run(engine, tmp_path, steps)
    assert status is JobStatus.DONE
    assert seen == [("queued", "queued"), ("running", "starting"), ("running", "graph ready"), ("done", "done")]
