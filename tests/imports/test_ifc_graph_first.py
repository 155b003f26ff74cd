"""The graph is committed before the geometry is done; a geometry that fails later keeps it, and says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bim import GeometryResult, geometry_process
from bim.geometry_process import GeometryProcess, GeometryRun, GeometrySource
from bim.model import BimGeoref
from bim.reader import Progress
from bim.store import GRAPH_READY, IfcImporter
from tests.imports.conftest import run_import
from tests.imports.helpers import active_counts, graph_rows, one
from tests.imports.test_ifc_changes import HVAC, _modified_copy
from tests.shared import shared_file
from twin.events import EventBus, RegistryEvent
from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, JobStatus, SiteRef
from twin.imports import runner as runner_module

OFFICE = "ifc/Office_A_20110811.ifc"
Probe = Callable[[], dict[str, Any]]


def _runner(engine: Engine, assets: Path, geometry: GeometrySource) -> ImportRunner:
    return ImportRunner(engine, EventBus(), ImporterRegistry([IfcImporter(geometry)]), assets)


@pytest.fixture
def make_runner(engine: Engine, assets: Path) -> Iterator[Callable[[GeometrySource], ImportRunner]]:
    """Runners whose IFC importer takes the geometry source a test gives."""
    made: list[ImportRunner] = []

    def make(geometry: GeometrySource) -> ImportRunner:
        made.append(_runner(engine, assets, geometry))
        return made[-1]

    yield make
    for runner in made:
        runner.close()


def _served(assets: Path) -> dict[str, bytes]:
    """Return every served file (GLBs, manifests) with its content; scratch folders left out."""
    return {
        str(p.relative_to(assets)): p.read_bytes()
        for p in sorted(assets.rglob("*"))
        if p.is_file() and ".incoming" not in p.parts
    }


def _devices(engine: Engine) -> int:
    return int(one(engine, "SELECT count(*) FROM devices WHERE retired_at IS NULL"))


def test_devices_are_queryable_while_the_real_geometry_runs(engine: Engine, assets: Path) -> None:
    """At the "graph ready" event the devices are in the store and no GLB is served yet; the GLBs follow."""
    bus = EventBus()
    runner = ImportRunner(engine, bus, ImporterRegistry([IfcImporter()]), assets)
    seen: list[tuple[str, int, dict[str, bytes]]] = []

    def listen(event: RegistryEvent) -> None:
        if event.kind == "import":
            seen.append((event.data["stage"], _devices(engine), _served(assets)))

    bus.subscribe(listen)
    try:
        job = run_import(runner, "ifc", shared_file(OFFICE), site="office")
    finally:
        runner.close()
    assert job.status is JobStatus.DONE, job.error
    stages = [stage for stage, _, _ in seen]
    ready = stages.index(GRAPH_READY)
    assert stages.index("done") > ready and "tessellating" not in stages[ready:]
    _, devices, served = seen[ready]
    assert devices == job.counts["devices"] > 0
    assert served == {}
    assert any(name.endswith(".glb") for name in _served(assets))


class _Probed:
    """The real geometry, with a look at the store taken when the import starts waiting for it."""

    def __init__(self, probe: Probe, seen: list[dict[str, Any]]) -> None:
        self._probe, self._seen = probe, seen

    def __call__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> GeometryRun:
        running = GeometryProcess(path, out_dir, georef, progress)
        probed = self

        class Run:
            def result(self) -> GeometryResult:
                probed._seen.append(probed._probe())
                return running.result()

            def cancel(self) -> None:
                running.cancel()

        return Run()


def test_graph_is_committed_before_the_import_waits_for_the_geometry(
    engine: Engine, assets: Path, make_runner: Callable[[GeometrySource], ImportRunner]
) -> None:
    """From another connection: the job says "graph ready" and the model's devices are there, GLBs not yet."""
    seen: list[dict[str, Any]] = []

    def probe() -> dict[str, Any]:
        stage = one(engine, "SELECT stage FROM import_jobs ORDER BY id DESC LIMIT 1")
        return {"stage": stage, "devices": _devices(engine), "served": _served(assets)}

    job = run_import(make_runner(_Probed(probe, seen)), "ifc", shared_file(HVAC), site="pcert")
    assert job.status is JobStatus.DONE, job.error
    assert seen == [{"stage": GRAPH_READY, "devices": 2, "served": {}}]
    assert job.counts["glb_files"] >= 1 and job.summary["geometry"]["status"] == "done"


class _FailedGeometry:
    """A geometry stage that fails as a whole (the worker ran out of memory, say)."""

    def __init__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> None:
        self.out_dir = out_dir

    def result(self) -> GeometryResult:
        return GeometryResult([], [], [], error="MemoryError: std::bad_alloc")

    def cancel(self) -> None:
        """Nothing runs."""


def test_geometry_failing_after_the_graph_keeps_the_graph_and_the_previous_glbs(
    runner: ImportRunner,
    engine: Engine,
    assets: Path,
    tmp_path: Path,
    make_runner: Callable[[GeometrySource], ImportRunner],
) -> None:
    """A new version whose geometry fails: done, its graph changes stored, the old GLBs served, the warning first."""
    first = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    served = _served(assets)
    changed = tmp_path / "v2" / Path(HVAC).name
    removed, moved = _modified_copy(shared_file(HVAC), changed)

    job = run_import(make_runner(_FailedGeometry), "ifc", changed, site=str(first.site_id))

    assert job.status is JobStatus.DONE, job.error
    assert job.warnings[0].startswith("geometry failed as a whole (MemoryError: std::bad_alloc)")
    assert job.summary["geometry"] == {
        "status": "failed",
        "error": "MemoryError: std::bad_alloc",
        "glbs": "previous kept",
    }
    assert job.summary["global_ids"] == {"retired": [removed], "moved": [moved]}
    assert job.counts["glb_files"] == 0
    assert active_counts(engine, first.site_id or 0)["devices"] == 1
    assert _served(assets) == served


class _BrokenWait(_FailedGeometry):
    """Waiting for the geometry raises (a bug, a lost disk): nothing of it may be served."""

    def result(self) -> GeometryResult:
        raise OSError("No space left on device")


def test_failure_after_the_graph_committed_says_the_graph_is_kept(
    engine: Engine, assets: Path, make_runner: Callable[[GeometrySource], ImportRunner]
) -> None:
    """The job fails, its error names the fault and says the committed graph stays; no GLB is served."""
    job = run_import(make_runner(_BrokenWait), "ifc", shared_file(HVAC), site="pcert")
    assert job.status is JobStatus.FAILED
    assert "No space left on device" in (job.error or "")
    assert f"committed at {GRAPH_READY!r} is kept" in (job.error or "")
    assert _devices(engine) == 2
    assert _served(assets) == {}


def test_refused_structure_stops_the_geometry_and_writes_nothing(
    runner: ImportRunner, engine: Engine, assets: Path
) -> None:
    """A GlobalId of another site is refused before the graph commits: store and files as they were."""
    path = shared_file(HVAC)
    first = run_import(runner, "ifc", path, site="house")
    before, files = graph_rows(engine), _served(assets)
    job = run_import(runner, "ifc", path, site="another house")
    assert job.status is JobStatus.FAILED and f"site {first.site_id}" in (job.error or "")
    assert "kept" not in (job.error or "")
    assert graph_rows(engine) == before
    assert _served(assets) == files
    assert list((assets / ".incoming").iterdir()) == []



@dataclass
class _Record:
    """The statuses of the job rows there were when each geometry stage was handed its file; its cancels."""

    jobs: list[list[str]] = field(default_factory=list)
    cancelled: list[Path] = field(default_factory=list)


@pytest.fixture
def recording(engine: Engine) -> tuple[GeometrySource, _Record]:
    """A failing geometry stage that reads the job rows from another connection when it starts."""
    record = _Record()

    class Recorded(_FailedGeometry):
        def __init__(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> None:
            super().__init__(path, out_dir, georef, progress)
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT status FROM import_jobs ORDER BY id"))
                record.jobs.append([str(status) for (status,) in rows])

        def cancel(self) -> None:
            record.cancelled.append(self.out_dir)

    return Recorded, record


def test_geometry_is_handed_its_file_before_the_job_is_recorded(
    recording: tuple[GeometrySource, _Record], make_runner: Callable[[GeometrySource], ImportRunner]
) -> None:
    """The CLI's job: the workers get the file before the job's row; a queued job's before it runs."""
    geometry, record = recording
    runner = make_runner(geometry)
    job = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    assert job.status is JobStatus.DONE, job.error
    request = ImportRequest(ImportKind.IFC, shared_file(HVAC), "hvac.ifc", SiteRef(name="pcert"), created_by="test")
    runner.submit(request)
    runner.close()
    assert record.jobs == [[], ["done", "queued"]]
    assert record.cancelled == []


def test_a_job_failing_before_its_import_stops_the_geometry_begun(
    recording: tuple[GeometrySource, _Record],
    make_runner: Callable[[GeometrySource], ImportRunner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job's row cannot be marked running, or written at all: the geometry begun on its file is stopped."""
    geometry, record = recording
    runner = make_runner(geometry)

    def broken(*args: object) -> None:
        raise OSError("the database went away")

    monkeypatch.setattr(runner_module, "mark_running", broken)
    job = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    assert job.status is JobStatus.FAILED and "went away" in (job.error or "")
    assert len(record.cancelled) == 1
    monkeypatch.setattr(runner_module, "create_job", broken)
    with pytest.raises(OSError, match="went away"):
        run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    assert len(record.cancelled) == 2


def test_the_next_spare_workers_start_once_the_job_has_ended(
    runner: ImportRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the done job is written its workers are gone and no spare replaced them yet; after it, spares wait."""
    alive: list[int] = []
    done = runner_module.mark_done

    def counted(*args: Any) -> None:
        alive.append(len(geometry_process._spares))
        done(*args)

    monkeypatch.setattr(runner_module, "mark_done", counted)
    job = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    assert job.status is JobStatus.DONE, job.error
    assert alive == [geometry_process.workers() - 1]
    assert len(geometry_process._spares) == geometry_process.workers()
