# mypy: disable-error-code="no-untyped-call"
"""Geometry split between workers: disjoint shares, and the same GLBs as one process writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ifcopenshell
import pytest

import bim.geometry_process
from bim.geometry import GeometryResult, tessellate, write_parts
from bim.geometry_process import GeometryProcess, workers_for
from bim.geometry_shares import split
from bim.glb import read_glb
from tests.bim.factory import build_ifc
from tests.shared import shared_file

ELECTRICAL = "ifc/Duplex_Electrical_20121207.ifc"


def _drawn(result: GeometryResult) -> dict[str, tuple[list[str], int, int]]:
    """Return each file's node GlobalIds, mesh count and material count."""
    drawn = {}
    for written in result.files:
        document, _ = read_glb(written.path)
        ids = sorted(node["extras"]["globalId"] for node in document.get("nodes", []))
        drawn[written.path.name] = (ids, len(document.get("meshes", [])), len(document.get("materials", [])))
    return drawn


def _mapped_sources(product: Any) -> frozenset[int]:
    return frozenset(
        item.MappingSource.id()
        for representation in product.Representation.Representations
        for item in representation.Items
        if item.is_a("IfcMappedItem")
    )


def test_shares_are_disjoint_cover_every_element_and_keep_families_together() -> None:
    """Every element the stage draws is in exactly one share; instances of one family share it."""
    model = ifcopenshell.open(str(shared_file(ELECTRICAL)))
    shares = split(model, 3)
    ids = [element.id() for share in shares for element in share]
    assert len(ids) == len(set(ids))
    drawable = {
        p.id()
        for p in model.by_type("IfcProduct")
        if p.Representation is not None and not p.is_a("IfcOpeningElement") and not p.is_a("IfcSpace")
    }
    assert set(ids) == drawable
    assert all(shares)
    owner: dict[int, int] = {}
    for number, share in enumerate(shares):
        for element in share:
            for source in _mapped_sources(element) if not element.HasOpenings else ():
                assert owner.setdefault(source, number) == number, f"family {source} split"
    assert owner


def test_parts_of_shares_write_the_files_of_the_whole(tmp_path: Path) -> None:
    """Tessellated in three shares and merged, a model's GLBs hold what one pass writes."""
    model = ifcopenshell.open(str(shared_file(ELECTRICAL)))
    whole = write_parts([tessellate(model)], _folder(tmp_path / "one"), tmp_path / "one")
    parts = [tessellate(model, share=share) for share in split(model, 3)]
    merged = write_parts(parts, _folder(tmp_path / "three"), tmp_path / "three")
    assert _drawn(merged) == _drawn(whole)
    assert sum(len(p.nodes) for p in parts) == sum(f.element_count for f in whole.files) > 100


def test_two_workers_draw_what_one_process_draws(
    office: tuple[Path, GeometryResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Office_A through two worker processes: the same files, nodes, meshes and materials as in one."""
    path, alone = office
    monkeypatch.setattr(bim.geometry_process, "workers", lambda: 2)
    running = GeometryProcess(path, tmp_path / "glb", None, None)
    assert len(running._workers) == 2
    result = running.result()
    assert result.error is None and result.failed == alone.failed
    assert _drawn(result) == _drawn(alone)


def test_an_element_failing_in_a_share_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The broken element's worker reports it by GlobalId; the other share's elements are drawn."""
    built = build_ifc(tmp_path / "broken.ifc", broken_element=True)
    monkeypatch.setattr(bim.geometry_process, "workers", lambda: 2)
    monkeypatch.setattr(bim.geometry_process, "BYTES_PER_WORKER", 1)
    running = GeometryProcess(built.path, tmp_path / "glb", None, None)
    assert len(running._workers) == 2
    result = running.result()
    assert result.failed == [built.ids["broken"]]
    (written,) = _drawn(result).values()
    assert written[0] == sorted([built.ids["sensor"], built.ids["wall"]])


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def test_a_small_file_gets_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below BYTES_PER_WORKER a second worker's own parse costs more than its share saves."""
    monkeypatch.setattr(bim.geometry_process, "workers", lambda: 2)
    small, large = shared_file("ifc/PCERT_Building-Hvac_IFC4.ifc"), shared_file(ELECTRICAL)
    assert (workers_for(small), workers_for(large)) == (1, 2)
