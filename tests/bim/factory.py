"""Build small IFC files in a test's folder, with exactly the defect a test needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import numpy as np


@dataclass
class Built:
    """The written file and the GlobalIds a test looks for."""

    path: Path
    ids: dict[str, str]


def build_ifc(
    path: Path,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    millimetres: bool = False,
    site: bool = True,
    storey: bool = True,
    broken_element: bool = False,
    sensor_at: tuple[float, float, float] = (2.0, 2.0, 1.0),
) -> Built:
    """Write a one-storey model with two rooms, a door between them and a smoke sensor."""
    model = ifcopenshell.file(schema="IFC4")
    f = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcProject")
    unit = 1000.0 if millimetres else 1.0
    length = ifcopenshell.api.run(
        "unit.add_si_unit", model, unit_type="LENGTHUNIT", prefix="MILLI" if millimetres else None
    )
    ifcopenshell.api.run("unit.assign_unit", model, units=[length])
    context = ifcopenshell.api.run("context.add_context", model, context_type="Model")
    body = ifcopenshell.api.run(
        "context.add_context",
        model,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=context,
    )
    ids: dict[str, str] = {}
    parent = f
    if site:
        site_entity = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcSite", name="Site")
        ifcopenshell.api.run("aggregate.assign_object", model, products=[site_entity], relating_object=f)
        _place(model, site_entity, (origin[0] * unit, origin[1] * unit, 0.0))
        parent, ids["site"] = site_entity, site_entity.GlobalId
    building = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcBuilding", name="Tower 1")
    ifcopenshell.api.run("aggregate.assign_object", model, products=[building], relating_object=parent)
    ids["building"] = building.GlobalId
    holder = building
    if storey:
        level = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcBuildingStorey", name="1F")
        ifcopenshell.api.run("aggregate.assign_object", model, products=[level], relating_object=building)
        holder, ids["storey"] = level, level.GlobalId
    for name, x in (("Room A", 0.0), ("Room B", 4.0)):
        space = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcSpace", name=name)
        ifcopenshell.api.run("aggregate.assign_object", model, products=[space], relating_object=holder)
        _place(model, space, (x * unit + origin[0] * unit, origin[1] * unit, 0.0))
        rep = ifcopenshell.api.run(
            "geometry.add_wall_representation",
            model,
            context=body,
            length=4.0 * unit,
            height=3.0 * unit,
            thickness=5.0 * unit,
        )
        ifcopenshell.api.run("geometry.assign_representation", model, product=space, representation=rep)
        ids[name] = space.GlobalId
    door = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcDoor", name="D1")
    ifcopenshell.api.run("spatial.assign_container", model, products=[door], relating_structure=holder)
    _place(model, door, ((4.0 + origin[0]) * unit, (2.0 + origin[1]) * unit, 0.0))
    ids["door"] = door.GlobalId
    sensor = ifcopenshell.api.run(
        "root.create_entity", model, ifc_class="IfcSensor", name="SD-1", predefined_type="SMOKESENSOR"
    )
    ifcopenshell.api.run("spatial.assign_container", model, products=[sensor], relating_structure=holder)
    x, y, z = sensor_at
    _place(model, sensor, ((x + origin[0]) * unit, (y + origin[1]) * unit, z * unit))
    rep = ifcopenshell.api.run(
        "geometry.add_wall_representation",
        model,
        context=body,
        length=0.1 * unit,
        height=0.05 * unit,
        thickness=0.1 * unit,
    )
    ifcopenshell.api.run("geometry.assign_representation", model, product=sensor, representation=rep)
    ids["sensor"] = sensor.GlobalId
    wall = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcWall", name="W1")
    ifcopenshell.api.run("spatial.assign_container", model, products=[wall], relating_structure=holder)
    _place(model, wall, (origin[0] * unit, origin[1] * unit, 0.0))
    rep = ifcopenshell.api.run(
        "geometry.add_wall_representation",
        model,
        context=body,
        length=8.0 * unit,
        height=3.0 * unit,
        thickness=0.2 * unit,
    )
    ifcopenshell.api.run("geometry.assign_representation", model, product=wall, representation=rep)
    ids["wall"] = wall.GlobalId
    if broken_element:
        ids["broken"] = _broken(model, holder, body)
    model.write(str(path))
    return Built(path, ids)


def _place(
    model: ifcopenshell.file, product: ifcopenshell.entity_instance, at: tuple[float, float, float]
) -> None:
    matrix = np.eye(4)
    matrix[:3, 3] = at
    ifcopenshell.api.run("geometry.edit_object_placement", model, product=product, matrix=matrix, is_si=False)


def _broken(
    model: ifcopenshell.file, holder: ifcopenshell.entity_instance, body: ifcopenshell.entity_instance
) -> str:
    """Add a column whose extrusion has a degenerate (zero-area) profile and no depth."""
    column = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcColumn", name="Broken")
    ifcopenshell.api.run("spatial.assign_container", model, products=[column], relating_structure=holder)
    _place(model, column, (1.0, 1.0, 0.0))
    points = model.createIfcCartesianPointList2D(((0.0, 0.0), (0.0, 0.0)))
    curve = model.createIfcIndexedPolyCurve(points, None, False)
    profile = model.createIfcArbitraryClosedProfileDef("AREA", None, curve)
    solid = model.createIfcExtrudedAreaSolid(profile, None, model.createIfcDirection((0.0, 0.0, 1.0)), 0.0)
    shape = model.createIfcShapeRepresentation(body, "Body", "SweptSolid", [solid])
    ifcopenshell.api.run(
        "geometry.assign_representation",
        model,
        product=column,
        representation=shape,
    )
    return str(column.GlobalId)
