"""Walking edges: doors join spaces, stairs and lifts join storeys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ifcopenshell
import pytest

from bim import BimModel, read_ifc
from tests.bim.factory import build_ifc
from tests.shared import shared_file

Reader = Callable[[str], BimModel]


def test_fzk_doors_follow_space_boundaries(bim_model: Reader) -> None:
    """When the file states space boundaries, doors join exactly those spaces."""
    model = bim_model("AC20-FZK-Haus.ifc")
    raw = ifcopenshell.open(str(shared_file("ifc/AC20-FZK-Haus.ifc")))
    doors = [w for w in model.walks if w.kind == "door"]
    assert doors
    for edge in doors:
        bounded = {
            rel.RelatingSpace.GlobalId
            for rel in raw.by_type("IfcRelSpaceBoundary")
            if rel.RelatedBuildingElement is not None and rel.RelatedBuildingElement.GlobalId == edge.via
        }
        assert {edge.source, edge.target} <= bounded
        assert raw.by_guid(edge.via).is_a("IfcDoor")
        assert edge.source < edge.target and edge.length > 0


def test_fzk_stair_joins_ground_and_roof_storeys(bim_model: Reader) -> None:
    """A stair joins its storey to the one above."""
    model = bim_model("AC20-FZK-Haus.ifc")
    (stair,) = [w for w in model.walks if w.kind == "stair"]
    names = {s.global_id: s.name for s in model.storeys}
    assert {names[stair.source], names[stair.target]} == {"Erdgeschoss", "Dachgeschoss"}
    assert stair.length > 2.7


def test_office_elevator_serves_every_storey(bim_model: Reader) -> None:
    """A lift exported as an IfcFlowTerminal still joins every floor."""
    model = bim_model("Office_A_20110811.ifc")
    lifts = [w for w in model.walks if w.kind == "elevator"]
    assert len(lifts) == len(model.storeys) - 1
    assert sum(w.length for w in lifts) == pytest.approx(7.925, abs=0.01)


def test_doors_fall_back_to_geometric_adjacency(tmp_path: Path) -> None:
    """Files without space boundaries still get doors from footprints."""
    built = build_ifc(tmp_path / "rooms.ifc")
    (edge,) = read_ifc(built.path).walks
    assert (edge.kind, edge.via) == ("door", built.ids["door"])
    assert {edge.source, edge.target} == {built.ids["Room A"], built.ids["Room B"]}
    assert edge.length == pytest.approx(2 * (2.0**2 + 0.5**2) ** 0.5, abs=0.01)
