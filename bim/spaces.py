# mypy: disable-error-code="no-untyped-call"
"""Space footprints from tessellated geometry, and the point-in-space test devices need.

Space bodies are extrusions, breps or meshes depending on the authoring tool; projecting their
triangles on the floor plane and merging them gives one footprint whatever the source was.
"""

from __future__ import annotations

from dataclasses import dataclass

import ifcopenshell
import ifcopenshell.geom
import numpy as np
import shapely
from shapely.geometry import Polygon

from bim.model import BimSpace, Point2, Point3


@dataclass(frozen=True, slots=True)
class SpaceShape:
    """The floor outline and vertical extent of one space, in world metres."""

    footprint: tuple[Point2, ...]
    area: float
    bottom: float
    top: float


def space_shapes(
    model: ifcopenshell.file, spaces: list[ifcopenshell.entity_instance], offset: Point3
) -> tuple[dict[str, SpaceShape], list[str]]:
    """Return footprints by GlobalId for the spaces whose geometry builds, and warnings for the rest."""
    shapes: dict[str, SpaceShape] = {}
    warnings: list[str] = []
    with_body = [s for s in spaces if s.Representation is not None]
    if with_body:
        settings = ifcopenshell.geom.settings()
        settings.set("use-world-coords", True)
        # Spaces are few and simple: one thread beats the start-up of several.
        iterator = ifcopenshell.geom.iterator(settings, model, 1, include=with_body)
        if iterator.initialize():
            while True:
                shape = iterator.get()
                verts = np.frombuffer(shape.geometry.verts_buffer, dtype=np.float64).reshape(-1, 3)
                faces = np.frombuffer(shape.geometry.faces_buffer, dtype=np.int32).reshape(-1, 3)
                built = _outline(verts - np.asarray(offset), faces)
                if built is not None:
                    shapes[shape.guid] = built
                if not iterator.next():
                    break
    for space in with_body:
        if space.GlobalId not in shapes:
            warnings.append(f"IfcSpace {space.GlobalId} ({space.Name}): no usable geometry, no footprint")
    return shapes, warnings


def _outline(verts: np.ndarray, faces: np.ndarray) -> SpaceShape | None:
    if len(faces) == 0:
        return None
    triangles = verts[faces][:, :, :2]
    polygons = shapely.polygons(triangles)
    polygons = polygons[shapely.area(polygons) > 1e-9]
    if len(polygons) == 0:
        return None
    merged = shapely.union_all(polygons, grid_size=1e-4)
    parts = [merged] if isinstance(merged, Polygon) else list(getattr(merged, "geoms", []))
    parts = [p for p in parts if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return None
    largest = max(parts, key=lambda p: p.area)
    ring = [(round(x, 4), round(y, 4)) for x, y in largest.exterior.coords[:-1]]
    return SpaceShape(tuple(ring), float(merged.area), float(verts[:, 2].min()), float(verts[:, 2].max()))


def space_at(point: Point3, spaces: list[BimSpace], tolerance: float = 0.1) -> BimSpace | None:
    """Return the space whose footprint and height hold the point, the smallest when they nest."""
    candidates = []
    here = shapely.Point(point[0], point[1])
    for space in spaces:
        if len(space.footprint) < 3:
            continue
        top = space.elevation + (space.height if space.height is not None else 3.0)
        if not space.elevation - tolerance <= point[2] <= top + tolerance:
            continue
        outline = Polygon(space.footprint)
        if outline.distance(here) <= tolerance:
            candidates.append((outline.area, space.global_id, space))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None
