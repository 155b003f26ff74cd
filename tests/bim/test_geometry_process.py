"""The geometry worker process: GLBs swapped in whole on success, nothing left behind otherwise."""

from __future__ import annotations

from pathlib import Path

from bim.geometry_process import GeometryProcess
from bim.geometry_warmup import warm_up
from tests.bim.factory import build_ifc
from tests.shared import shared_file


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".glb"))


def test_worker_writes_every_storey_and_swaps_them_in(tmp_path: Path) -> None:
    """The files appear in the target folder only once the worker said it wrote them all."""
    built = build_ifc(tmp_path / "model.ifc")
    out = tmp_path / "glb"
    seen: list[int] = []
    running = GeometryProcess(built.path, out, None, lambda stage, done, total: seen.append(done))
    result = running.result()
    assert result.error is None and result.peak_mb > 0
    assert [f.path for f in result.files] == sorted(out.iterdir())
    assert seen[-1] == 100
    assert _leftovers(tmp_path) == []


def test_stage_failing_as_a_whole_keeps_the_previous_files(tmp_path: Path) -> None:
    """A worker that cannot tessellate says why; the folder holds what it held before."""
    out = tmp_path / "glb"
    out.mkdir()
    (out / "storey-old.glb").write_bytes(b"previous")
    result = GeometryProcess(tmp_path / "gone.ifc", out, None, None).result()
    assert result.error is not None and "gone.ifc" in result.error
    assert result.files == []
    assert [(p.name, p.read_bytes()) for p in out.iterdir()] == [("storey-old.glb", b"previous")]
    assert _leftovers(tmp_path) == []


def test_cancel_stops_the_worker_and_deletes_what_it_wrote(tmp_path: Path) -> None:
    """The structure failed: the worker is killed mid-file and no GLB or scratch folder remains."""
    running = GeometryProcess(shared_file("ifc/Office_A_20110811.ifc"), tmp_path / "glb", None, None)
    running.cancel()
    assert list(tmp_path.iterdir()) == []


def test_warm_up_model_draws_its_wall_and_box() -> None:
    """The spare's warm-up really tessellates (a failure there is swallowed, so it would go unseen)."""
    assert warm_up() == 2
