# mypy: disable-error-code="no-untyped-call"
"""GLB per storey: parses back, one node per element with its GlobalId, instancing, atomic writes."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import ifcopenshell
import numpy as np
import pytest

from bim import BimModel, GeometryResult, import_ifc, read_ifc, write_glbs
from bim.geometry import SKIPPED_CLASSES
from bim.glb import read_glb
from tests.bim.factory import build_ifc
from tests.shared import shared_file


def _nodes(path: Path) -> list[dict[str, object]]:
    document, binary = read_glb(path)
    assert document["asset"]["version"] == "2.0"
    assert document.get("buffers", [{"byteLength": 0}])[0]["byteLength"] == len(binary)
    return list(document.get("nodes", []))


def test_office_glb_per_storey_holds_every_element(office: tuple[Path, GeometryResult]) -> None:
    """Every element with a body is drawn once, in its storey's file, pickable by GlobalId."""
    path, result = office
    raw = ifcopenshell.open(str(path))
    assert result.failed == []
    storeys = {s.GlobalId for s in raw.by_type("IfcBuildingStorey")}
    assert {f.storey_id for f in result.files} <= storeys | {None}
    seen: Counter[str] = Counter()
    for written in result.files:
        assert written.path.exists() and written.path.stat().st_size == written.bytes
        nodes = _nodes(written.path)
        assert len(nodes) == written.element_count
        for node in nodes:
            extras = node["extras"]
            assert isinstance(extras, dict)
            element = raw.by_guid(extras["globalId"])
            assert element.is_a() == extras["ifcClass"]
            seen[extras["globalId"]] += 1
    assert max(seen.values()) == 1
    drawn = {
        p.GlobalId
        for p in raw.by_type("IfcProduct")
        if p.Representation is not None
        and not any(p.is_a(c) for c in SKIPPED_CLASSES)
        and any(r.RepresentationIdentifier == "Body" for r in p.Representation.Representations)
    }
    assert drawn <= set(seen)


def test_office_reuses_meshes_and_merges_materials(office: tuple[Path, GeometryResult]) -> None:
    """Revit reuses families; instancing and colour merging keep the GLBs small."""
    _, result = office
    biggest = max(result.files, key=lambda f: f.element_count)
    document, _ = read_glb(biggest.path)
    assert len(document["meshes"]) < len(document["nodes"])
    colours = [tuple(m["pbrMetallicRoughness"]["baseColorFactor"]) for m in document["materials"]]
    assert len(colours) == len(set(colours))


def test_positions_are_y_up_in_the_reader_frame(tmp_path: Path) -> None:
    """The view overlays devices from read_ifc on the GLB: both frames must agree."""
    built = build_ifc(tmp_path / "far.ifc", origin=(500000.0, 4000000.0), millimetres=True)
    model, result = import_ifc(built.path, tmp_path / "glb")
    assert model.georef.offset == (500000.0, 4000000.0, 0.0)
    sensor = next(d for d in model.devices if d.global_id == built.ids["sensor"])
    assert sensor.position == pytest.approx((2.0, 2.0, 1.0))
    (written,) = result.files
    node = next(n for n in _nodes(written.path) if n["extras"]["globalId"] == built.ids["sensor"])  # type: ignore[index]
    matrix = np.array(node["matrix"]).reshape(4, 4).T
    x, y, z = sensor.position
    assert matrix[:3, 3] == pytest.approx((x, z, -y))


def test_failed_element_is_reported_and_the_storey_still_written(tmp_path: Path) -> None:
    """One bad element must not cost its storey."""
    built = build_ifc(tmp_path / "broken.ifc", broken_element=True)
    result = write_glbs(built.path, tmp_path / "glb")
    assert result.failed == [built.ids["broken"]]
    assert built.ids["broken"] in result.warnings[0]
    (written,) = result.files
    ids = {n["extras"]["globalId"] for n in _nodes(written.path)}  # type: ignore[index]
    assert ids == {built.ids["sensor"], built.ids["wall"]}


def test_failed_run_leaves_previous_files_in_place(tmp_path: Path) -> None:
    """A failed import leaves the served geometry exactly as it was."""
    built = build_ifc(tmp_path / "model.ifc")
    out = tmp_path / "glb"
    first = write_glbs(built.path, out)
    before = sorted(p.name for p in out.iterdir())

    def explode(stage: str, done: int, total: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_glbs(built.path, out, progress=explode)
    assert sorted(p.name for p in out.iterdir()) == before == [first.files[0].path.name]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".glb")] == []


def test_rewrite_replaces_the_folder_whole(tmp_path: Path) -> None:
    """Storeys removed from a model must not linger as stale files."""
    out = tmp_path / "glb"
    out.mkdir()
    (out / "stale.glb").write_bytes(b"old")
    write_glbs(build_ifc(tmp_path / "model.ifc").path, out)
    assert not (out / "stale.glb").exists()


def test_import_reads_the_structure_while_tessellating(tmp_path: Path) -> None:
    """The graph is handed over while the geometry runs, and the GLBs are published after it."""
    path = shared_file("ifc/PCERT_Building-Hvac_IFC4.ifc")
    out = tmp_path / "glb"
    tessellated = threading.Event()
    handed: list[tuple[int, bool, bool]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "geometry" and done == total:
            tessellated.set()

    def on_model(model: BimModel) -> None:
        # Sequential code would never get here with the geometry done: the wait proves overlap.
        handed.append((len(model.devices), tessellated.wait(timeout=120), out.exists()))

    model, result = import_ifc(path, out, progress=progress, on_model=on_model)
    assert handed == [(2, True, False)]
    assert model == read_ifc(path)
    assert sum(f.element_count for f in result.files) == 5
    assert all(f.path.exists() for f in result.files)


def test_import_whose_structure_fails_writes_no_geometry(tmp_path: Path) -> None:
    """Geometry and structure run side by side; the GLBs appear only if both succeed."""
    built = build_ifc(tmp_path / "model.ifc")
    out = tmp_path / "glb"

    def store_refuses(model: object) -> None:
        raise RuntimeError("store is read-only")

    with pytest.raises(RuntimeError, match="read-only"):
        import_ifc(built.path, out, on_model=store_refuses)
    assert not out.exists()
    assert list(tmp_path.glob(".glb*")) == []
