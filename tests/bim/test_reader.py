# mypy: disable-error-code="no-untyped-call"
"""Every shared IFC file reads, and what we read agrees with ifcopenshell's own counts."""

from __future__ import annotations

from collections.abc import Callable

import ifcopenshell
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np
import pytest

from bim import BimModel, read_ifc
from bim.devices import NETWORK_CLASSES
from tests.bim.conftest import IFC_FILES
from tests.shared import shared_file
from twin.catalogue import DeviceKind

Reader = Callable[[str], BimModel]


@pytest.mark.parametrize("name", IFC_FILES)
def test_counts_match_ifcopenshell(bim_model: Reader, name: str) -> None:
    """Nothing the file holds is lost or invented on the way in."""
    model = bim_model(name)
    raw = ifcopenshell.open(str(shared_file(f"ifc/{name}")))
    assert len(model.sites) == len(raw.by_type("IfcSite"))
    assert len(model.buildings) == len(raw.by_type("IfcBuilding"))
    assert len(model.storeys) == len(raw.by_type("IfcBuildingStorey"))
    assert len(model.spaces) == len(raw.by_type("IfcSpace"))
    assert len(model.zones) == len(raw.by_type("IfcZone"))
    devices = {
        e.GlobalId
        for cls in ("IfcDistributionElement", "IfcTransportElement")
        for e in raw.by_type(cls)
        if not any(e.is_a(n) for n in NETWORK_CLASSES)
    }
    assert devices <= {d.global_id for d in model.devices}
    extra = [d for d in model.devices if d.global_id not in devices]
    assert all(d.kind is not DeviceKind.OTHER for d in extra), "look-alike proxies must have a kind"
    assert len({d.global_id for d in model.devices}) == len(model.devices)


@pytest.mark.parametrize(
    ("name", "elevations"),
    [
        ("AC20-FZK-Haus.ifc", {"Erdgeschoss": 0.0, "Dachgeschoss": 2.7}),
        (
            "Duplex_A_20110907_georeferenced.ifc",
            {"T/FDN": -1.25, "Level 1": 0.0, "Level 2": 3.1, "Roof": 6.0},
        ),
        # Feet in the file (10.17, 19.69): the reader must give metres.
        ("Duplex_Electrical_20121207.ifc", {"Level 1": 0.0, "Level 2": 3.1, "Roof": 6.0}),
        ("Office_A_20110811.ifc", {"Level 1": 0.0, "Level 2": 4.267, "Roof": 7.925}),
    ],
)
def test_storey_elevations_in_metres_and_ordered(
    bim_model: Reader, name: str, elevations: dict[str, float]
) -> None:
    """Elevations must be metres whatever the file's unit, and floors ordered bottom-up."""
    storeys = bim_model(name).storeys
    assert {s.name: round(s.elevation, 3) for s in storeys} == elevations
    by_order = sorted(storeys, key=lambda s: s.order)
    assert [round(s.elevation, 3) for s in by_order] == sorted(elevations.values())


def test_device_position_is_its_placement_in_metres(bim_model: Reader) -> None:
    """A device's position is its placement matrix, scaled from feet to metres."""
    model = bim_model("Duplex_Electrical_20121207.ifc")
    raw = ifcopenshell.open(str(shared_file("ifc/Duplex_Electrical_20121207.ifc")))
    feet = ifcopenshell.util.unit.calculate_unit_scale(raw)
    assert feet == pytest.approx(0.3048)
    smoke = [d for d in model.devices if d.kind is DeviceKind.SMOKE_DETECTOR]
    assert len(smoke) == 6
    for device in smoke:
        element = raw.by_guid(device.global_id)
        matrix = ifcopenshell.util.placement.get_local_placement(element.ObjectPlacement)
        assert device.position == pytest.approx(tuple(np.asarray(matrix)[:3, 3] * feet), abs=1e-6)
        assert device.ifc_class == "IfcFlowController"
        assert device.storey_id in {s.global_id for s in model.storeys}


def test_revit_generic_classes_get_kinds(bim_model: Reader) -> None:
    """Revit exports devices as generic classes; their names must still give the kind."""
    electrical = bim_model("Duplex_Electrical_20121207.ifc")
    kinds = {d.name.split(":")[0]: d.kind for d in electrical.devices}
    assert kinds["M_Thermostat"] is DeviceKind.ENV_SENSOR
    assert kinds["M_Pendant Light - Hemisphere"] is DeviceKind.LIGHT
    assert kinds["M_Lighting Switches"] is DeviceKind.OTHER
    assert kinds["M_Inline Pump - Circulator"] is DeviceKind.WATER_PUMP
    office = bim_model("Office_A_20110811.ifc")
    elevators = [d for d in office.devices if d.kind is DeviceKind.ELEVATOR]
    assert [d.ifc_class for d in elevators] == ["IfcFlowTerminal"]
    assert "Elevator-Hydraulic" in elevators[0].name


def test_devices_carry_psets_type_and_space(bim_model: Reader) -> None:
    """Maintenance needs the type and property sets, and the room a device is in."""
    office = bim_model("Office_A_20110811.ifc")
    holders = [d for d in office.devices if "Toilet Paper Holder" in d.name]
    assert len(holders) == 10
    assert all(d.properties and d.type_name for d in holders)
    assert all(d.space_id is not None for d in holders), "each holder stands in a toilet room"
    space_ids = {s.global_id for s in office.spaces}
    assert all(d.space_id in space_ids for d in holders)


def test_spaces_have_footprints_and_areas(bim_model: Reader) -> None:
    """Stated areas win; footprints and heights come from the geometry."""
    model = bim_model("AC20-FZK-Haus.ifc")
    raw = ifcopenshell.open(str(shared_file("ifc/AC20-FZK-Haus.ifc")))
    for space in model.spaces:
        assert len(space.footprint) >= 3
        assert space.area is not None and space.area > 1
        qto = ifcopenshell.util.element.get_psets(raw.by_guid(space.global_id), qtos_only=True)
        stated = [v.get("NetFloorArea") for v in qto.values() if v.get("NetFloorArea")]
        if stated:
            assert space.area == pytest.approx(stated[0], abs=1e-3)
        assert space.storey_id in {s.global_id for s in model.storeys}
        assert space.height is not None and 1.5 < space.height < 6


def test_office_space_footprint_area_close_to_stated_area(bim_model: Reader) -> None:
    """Footprints merged from triangles must match the areas the architect stated."""
    from shapely.geometry import Polygon

    model = bim_model("Office_A_20110811.ifc")
    close = [s for s in model.spaces if s.area and abs(Polygon(s.footprint).area - s.area) <= 0.05 * s.area]
    assert len(close) >= 0.9 * len(model.spaces)


def test_zone_groups_spaces(bim_model: Reader) -> None:
    """Zones and nested sites survive the import as the file states them."""
    model = bim_model("PCERT_Building-Architecture_IFC4.ifc")
    (zone,) = model.zones
    assert set(zone.space_ids) <= {s.global_id for s in model.spaces}
    assert zone.space_ids
    nested = {s.global_id: s.parent_id for s in model.sites}
    assert sorted(p is None for p in nested.values()) == [False, True]


def test_progress_reports_each_stage() -> None:
    """The CLI and the WebSocket show progress by stage."""
    seen: list[str] = []
    read_ifc(
        shared_file("ifc/PCERT_Building-Hvac_IFC4.ifc"),
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert seen[0] == "open" and "devices" in seen and seen[-1] == "walks"
