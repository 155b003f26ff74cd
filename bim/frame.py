# mypy: disable-error-code="no-untyped-call"
"""The world frame: file units to metres, placements to world points, elements to their storey.

Kept apart so the reader, the walking graph and the geometry writer place things identically.
"""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np

from bim.model import Point3

Entity = ifcopenshell.entity_instance


class Frame:
    """Convert one file's placements to world metres minus the re-centring offset."""

    def __init__(self, model: ifcopenshell.file, offset: Point3 = (0.0, 0.0, 0.0)) -> None:
        """Read the file's length and area units once; every placement reuses them."""
        self.model = model
        self.scale = float(ifcopenshell.util.unit.calculate_unit_scale(model))
        self.area_scale = float(ifcopenshell.util.unit.calculate_unit_scale(model, "AREAUNIT"))
        self.offset = offset

    def raw_position(self, product: Entity) -> Point3:
        """Return the product's placement origin in metres, before re-centring."""
        if getattr(product, "ObjectPlacement", None) is None:
            return (0.0, 0.0, 0.0)
        matrix = ifcopenshell.util.placement.get_local_placement(product.ObjectPlacement)
        x, y, z = (np.asarray(matrix)[:3, 3] * self.scale).tolist()
        return (x, y, z)

    def position(self, product: Entity) -> Point3:
        """Return the product's placement origin in the world frame."""
        x, y, z = self.raw_position(product)
        return (x - self.offset[0], y - self.offset[1], z - self.offset[2])


def spatial_parent(element: Entity) -> Entity | None:
    """Return the spatial element that holds this one: its container, else its aggregate's."""
    seen = 0
    current: Entity | None = element
    while current is not None and seen < 32:
        seen += 1
        container = ifcopenshell.util.element.get_container(current)
        if container is not None and container is not current:
            return container
        parent = ifcopenshell.util.element.get_aggregate(current)
        if parent is not None and parent.is_a("IfcSpatialStructureElement"):
            return parent
        current = parent
    return None


def storey_of(element: Entity) -> Entity | None:
    """Return the storey above a space or element in the spatial tree, if there is one."""
    current: Entity | None = (
        element if element.is_a("IfcSpatialStructureElement") else spatial_parent(element)
    )
    for _ in range(32):
        if current is None or current.is_a("IfcBuilding") or current.is_a("IfcSite"):
            return None
        if current.is_a("IfcBuildingStorey"):
            return current
        current = ifcopenshell.util.element.get_aggregate(current) or spatial_parent(current)
    return None


def plain(value: Any) -> Any:
    """Return a JSON-friendly copy of a property value (entities become their string form)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
