# mypy: disable-error-code="no-untyped-call"
"""The IFC file being written and the few ifcopenshell.api steps every generated element takes.

Each element gets the GlobalId its plan key gives (stable across regenerations), a placement from
site-frame metres (the API makes it relative to its container), and a body: a rectangle profile
extruded upwards, centred on the placement, or the mapped body of its type.
"""

from __future__ import annotations

import math
from typing import Any

import ifcopenshell
import ifcopenshell.api

from twin.scenes.plan import Community

Entity = ifcopenshell.entity_instance


def run(usecase: str, model: ifcopenshell.file, **settings: Any) -> Any:
    """Run one ifcopenshell.api use case (the one way this package changes a model)."""
    return ifcopenshell.api.run(usecase, model, **settings)


class IfcWriter:
    """An IFC4 model in metres with a body context, and the plan whose keys name its GlobalIds."""

    def __init__(self, community: Community, project_name: str) -> None:
        """Create the project, its SI units and the 3D body context."""
        self.community = community
        self.model = ifcopenshell.file(schema="IFC4")
        self.project = self.create("IfcProject", "project", project_name)
        units = [
            run("unit.add_si_unit", self.model, unit_type=kind)
            for kind in ("LENGTHUNIT", "AREAUNIT", "VOLUMEUNIT", "PLANEANGLEUNIT", "TIMEUNIT")
        ]
        run("unit.assign_unit", self.model, units=units)
        self.context = run("context.add_context", self.model, context_type="Model")
        self.body = run(
            "context.add_context",
            self.model,
            context_type="Model",
            context_identifier="Body",
            target_view="MODEL_VIEW",
            parent=self.context,
        )
        self._profiles: dict[tuple[float, float], Entity] = {}
        self._origins: dict[int, tuple[float, float, float]] = {}
        self._up = self.model.create_entity("IfcDirection", DirectionRatios=(0.0, 0.0, 1.0))
        self._north = self.model.create_entity("IfcDirection", DirectionRatios=(0.0, 1.0, 0.0))

    def create(self, ifc_class: str, key: str, name: str, predefined_type: str | None = None) -> Entity:
        """Create an element whose GlobalId is the plan's id for ``key``."""
        element: Entity = run(
            "root.create_entity", self.model, ifc_class=ifc_class, name=name, predefined_type=predefined_type
        )
        element.GlobalId = self.community.guid(key)
        return element

    def place(
        self, product: Entity, x: float, y: float, z: float, *, parent: Entity | None = None, turn: bool = False
    ) -> None:
        """Place a product at site-frame metres, relative to ``parent``'s placement; ``turn`` points +X north.

        Written directly rather than through ``geometry.edit_object_placement``, which re-reads the
        whole placement chain (about 3 ms an element: minutes for a hundred thousand devices); the
        parents here are never rotated, so the relative offset is a subtraction.
        """
        ox, oy, oz = self._origins.get(parent.id(), (0.0, 0.0, 0.0)) if parent is not None else (0.0, 0.0, 0.0)
        model = self.model
        location = model.create_entity(
            "IfcCartesianPoint", Coordinates=(round(x - ox, 4), round(y - oy, 4), round(z - oz, 4))
        )
        axes = {"Axis": self._up, "RefDirection": self._north} if turn else {}
        relative = model.create_entity("IfcAxis2Placement3D", Location=location, **axes)
        product.ObjectPlacement = model.create_entity(
            "IfcLocalPlacement",
            PlacementRelTo=parent.ObjectPlacement if parent is not None else None,
            RelativePlacement=relative,
        )
        self._origins[product.id()] = (x, y, z)

    def profile(self, dx: float, dy: float) -> Entity:
        """Return a centred rectangle profile of this size, shared by every body of that size."""
        key = (round(dx, 4), round(dy, 4))
        found = self._profiles.get(key)
        if found is None:
            found = self.model.create_entity("IfcRectangleProfileDef", ProfileType="AREA", XDim=key[0], YDim=key[1])
            self._profiles[key] = found
        return found

    def box(self, product: Entity, dx: float, dy: float, dz: float) -> None:
        """Give a product a body: a dx × dy rectangle centred on its placement, extruded dz up."""
        representation = run(
            "geometry.add_profile_representation",
            self.model,
            context=self.body,
            profile=self.profile(dx, dy),
            depth=dz,
            cardinal_point=5,
        )
        run("geometry.assign_representation", self.model, product=product, representation=representation)

    def contain(self, products: list[Entity], structure: Entity) -> None:
        """Put products in a storey or space (one relation per container), before they are placed.

        Containing an element the API sees placed makes it re-place the element relative to its
        new container; placing after containing costs nothing extra.
        """
        if products:
            run("spatial.assign_container", self.model, products=products, relating_structure=structure)

    def aggregate(self, products: list[Entity], whole: Entity) -> None:
        """Make products parts of a whole (site in project, building in site, space in storey)."""
        run("aggregate.assign_object", self.model, products=products, relating_object=whole)

    def solid(self, product: Entity, points: list[tuple[float, float]], width: float) -> None:
        """Give a product a body: a side profile (run along +Y, rise along +Z) extruded ``width`` along +X."""
        model = self.model
        curve = model.create_entity(
            "IfcIndexedPolyCurve", Points=model.create_entity("IfcCartesianPointList2D", CoordList=points)
        )
        area = model.create_entity("IfcArbitraryClosedProfileDef", ProfileType="AREA", OuterCurve=curve)
        position = model.create_entity(
            "IfcAxis2Placement3D",
            Location=model.create_entity("IfcCartesianPoint", Coordinates=(0.0, 0.0, 0.0)),
            Axis=model.create_entity("IfcDirection", DirectionRatios=(1.0, 0.0, 0.0)),
            RefDirection=model.create_entity("IfcDirection", DirectionRatios=(0.0, 1.0, 0.0)),
        )
        extrusion = model.create_entity(
            "IfcExtrudedAreaSolid",
            SweptArea=area,
            Position=position,
            ExtrudedDirection=model.create_entity("IfcDirection", DirectionRatios=(0.0, 0.0, 1.0)),
            Depth=width,
        )
        shape = model.create_entity(
            "IfcShapeRepresentation",
            ContextOfItems=self.body,
            RepresentationIdentifier="Body",
            RepresentationType="SweptSolid",
            Items=[extrusion],
        )
        run("geometry.assign_representation", self.model, product=product, representation=shape)


def dms(value: float) -> tuple[int, int, int, int]:
    """Return degrees as IFC's compound plane angle (degrees, minutes, seconds, millionths), signed."""
    sign = -1 if value < 0 else 1
    micro = round(abs(value) * 3600 * 1_000_000)
    degrees, micro = divmod(micro, 3600 * 1_000_000)
    minutes, micro = divmod(micro, 60 * 1_000_000)
    seconds, micro = divmod(micro, 1_000_000)
    return (sign * degrees, sign * minutes, sign * seconds, sign * micro)


def unit_vector(angle: float) -> tuple[float, float]:
    """Return (cos, sin) of an angle in radians, rounded so the file does not carry float noise."""
    return (round(math.cos(angle), 12), round(math.sin(angle), 12))
