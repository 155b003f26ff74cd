"""A changed model updates the graph by GlobalId; a broken one changes nothing at all."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.api.root
import ifcopenshell.util.unit
import pytest
from sqlalchemy import Engine, text

from tests.imports.conftest import run_import
from tests.imports.helpers import active_counts, graph_rows, one
from tests.shared import shared_file
from twin.imports import ImportRunner, JobStatus

OFFICE = "ifc/Office_A_20110811.ifc"
HVAC = "ifc/PCERT_Building-Hvac_IFC4.ifc"
"""Two air terminals, no spaces: the smallest model with devices, for the tests that import many times."""
FIXTURES = Path(ifcopenshell.__file__).parent / "simple_spf" / "fixtures"


def _modified_copy(source: Path, target: Path) -> tuple[str, str]:
    """Write a copy with one terminal removed and another moved 2 m east; return their GlobalIds."""
    model = ifcopenshell.open(str(source))
    terminals = sorted(model.by_type("IfcFlowTerminal"), key=lambda e: e.GlobalId)
    removed, moved = terminals[0], terminals[1]
    removed_id, moved_id = removed.GlobalId, moved.GlobalId
    ifcopenshell.api.root.remove_product(model, product=removed)
    placement = moved.ObjectPlacement.RelativePlacement
    x, y, z = placement.Location.Coordinates
    shift = 2.0 / ifcopenshell.util.unit.calculate_unit_scale(model)
    placement.Location = model.createIfcCartesianPoint((x + shift, y, z))
    target.parent.mkdir(parents=True, exist_ok=True)
    model.write(str(target))
    return removed_id, moved_id


def _device(engine: Engine, global_id: str) -> tuple[int, object, float, float]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT d.id, d.retired_at, ST_X(d.position_local), ST_Y(d.position_local) FROM devices d "
                "JOIN identifiers i ON i.device_id = d.id WHERE i.namespace = 'ifc' AND i.value = :g"
            ),
            {"g": global_id},
        ).one()
    return row[0], row[1], row[2], row[3]


def test_changed_model_moves_and_retires_by_global_id(runner: ImportRunner, engine: Engine, tmp_path: Path) -> None:
    """One device removed and one moved: the first is retired (kept), the second moved, both keep their ids."""
    first = run_import(runner, "ifc", shared_file(OFFICE), site="office")
    changed = tmp_path / "v2" / "Office_A_20110811.ifc"
    removed, moved = _modified_copy(shared_file(OFFICE), changed)
    removed_before, moved_before = _device(engine, removed), _device(engine, moved)
    devices = active_counts(engine, first.site_id or 0)["devices"]

    job = run_import(runner, "ifc", changed, site=str(first.site_id))

    assert job.status is JobStatus.DONE, job.error
    assert (job.summary["added"], job.summary["changed"]) == (0, 0)
    assert job.summary["global_ids"]["retired"] == [removed]
    assert job.summary["global_ids"]["moved"] == [moved]
    removed_after, moved_after = _device(engine, removed), _device(engine, moved)
    assert removed_after[0] == removed_before[0] and removed_after[1] is not None
    assert moved_after[0] == moved_before[0] and moved_after[1] is None
    assert abs((moved_after[2] - moved_before[2]) ** 2 + (moved_after[3] - moved_before[3]) ** 2 - 4.0) < 1e-3
    assert active_counts(engine, first.site_id or 0)["devices"] == devices - 1
    assert one(engine, "SELECT health FROM devices WHERE id = :i", i=removed_before[0]) == "retired"


def test_an_element_back_in_a_later_version_is_revived(
    runner: ImportRunner, engine: Engine, tmp_path: Path
) -> None:
    """Importing the original again after a version without an element brings that element's device back."""
    first = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    changed = tmp_path / "v2" / Path(HVAC).name
    removed, _ = _modified_copy(shared_file(HVAC), changed)
    run_import(runner, "ifc", changed, site=str(first.site_id))
    job = run_import(runner, "ifc", shared_file(HVAC), site=str(first.site_id))
    assert removed in job.summary["global_ids"]["added"]
    assert _device(engine, removed)[1] is None


def _broken_files(tmp_path: Path) -> list[tuple[Path, str]]:
    source = shared_file("ifc/AC20-FZK-Haus.ifc").read_bytes()
    truncated = tmp_path / "truncated.ifc"
    truncated.write_bytes(source[: len(source) // 2])
    not_ifc = tmp_path / "notes.ifc"
    not_ifc.write_text("Minutes of the owners' meeting\n")
    cases = [(truncated, "truncated"), (not_ifc, "not an IFC file")]
    duplicate = FIXTURES / "fail_duplicate_id.ifc"
    if duplicate.exists():
        cases.append((duplicate, "defined twice"))
    return cases


def test_broken_files_fail_and_leave_the_store_as_it_was(
    runner: ImportRunner, engine: Engine, assets: Path, tmp_path: Path
) -> None:
    """Truncated, not IFC, duplicate ids: each job fails naming the file and the fault; nothing is written."""
    first = run_import(runner, "ifc", shared_file("ifc/AC20-FZK-Haus.ifc"), site="house")
    before, files = graph_rows(engine), sorted(p.relative_to(assets) for p in assets.rglob("*"))
    for path, fault in _broken_files(tmp_path):
        job = run_import(runner, "ifc", path, site=str(first.site_id))
        assert job.status is JobStatus.FAILED
        assert path.name in (job.error or "") and fault in (job.error or "")
        assert graph_rows(engine) == before
        assert sorted(p.relative_to(assets) for p in assets.rglob("*")) == files


def test_a_failure_after_the_geometry_rolls_everything_back(
    runner: ImportRunner, engine: Engine, assets: Path
) -> None:
    """A model already imported into another site fails while storing: no row, no GLB is left behind."""
    path = shared_file(HVAC)
    first = run_import(runner, "ifc", path, site="house")
    before, files = graph_rows(engine), sorted(p.relative_to(assets) for p in assets.rglob("*"))
    job = run_import(runner, "ifc", path, site="another house")
    assert job.status is JobStatus.FAILED
    assert f"site {first.site_id}" in (job.error or "")
    assert graph_rows(engine) == before
    assert sorted(p.relative_to(assets) for p in assets.rglob("*")) == files


@pytest.mark.parametrize("option", [{"georef": "north pole"}, {"colour": "red"}])
def test_bad_options_are_refused_before_any_work(runner: ImportRunner, option: dict[str, str]) -> None:
    """An option that is unknown or malformed is named, and no job is even queued."""
    from twin.errors import TwinError

    with pytest.raises(TwinError, match=next(iter(option))):
        run_import(runner, "ifc", shared_file("ifc/AC20-FZK-Haus.ifc"), site="house", **option)


def test_model_key_lets_a_renamed_version_replace_its_predecessor(
    runner: ImportRunner, engine: Engine, tmp_path: Path
) -> None:
    """Under a new file name, a version given the old model key retires what it no longer holds."""
    first = run_import(runner, "ifc", shared_file(HVAC), site="pcert")
    changed = tmp_path / "PCERT_Hvac_v2.ifc"
    removed, _ = _modified_copy(shared_file(HVAC), changed)
    job = run_import(runner, "ifc", changed, site=str(first.site_id), model=Path(HVAC).stem)
    assert job.summary["global_ids"]["retired"] == [removed]
