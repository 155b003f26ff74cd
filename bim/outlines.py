"""Outlines the graph needs and IFC rarely states: space polygons, storey outlines, building footprints.

Space footprints come from the reader as rings; a storey's outline is the hull of what it holds
(its spaces and devices), so no device of the storey is ever "outside its floor"; a building's
footprint is the union of its spaces with the wall gaps between them closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from bim.model import Point2

WALL_GAP_M = 0.4
"""Spaces stop at the inner face of their walls; closing gaps this wide joins them into one footprint."""
MIN_AREA_M2 = 0.01


def polygon_of(ring: Sequence[Point2]) -> Polygon | None:
    """Return a valid polygon from a ring, repaired if it crosses itself; None when it has no area."""
    if len(ring) < 3:
        return None
    return largest_polygon(shapely.make_valid(Polygon(ring)))


def largest_polygon(geometry: BaseGeometry) -> Polygon | None:
    """Return the largest polygon of a geometry (itself when it is one), or None."""
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon)]
    nested = [p for g in getattr(geometry, "geoms", []) for p in getattr(g, "geoms", []) if isinstance(p, Polygon)]
    candidates = [p for p in (*parts, *nested) if p.area >= MIN_AREA_M2 and p.is_valid]
    return max(candidates, key=lambda p: p.area) if candidates else None


def outline_of(polygons: Iterable[Polygon], points: Iterable[Point2]) -> Polygon | None:
    """Return the convex hull of a storey's spaces and device positions, or None when it has no area."""
    coordinates = [c for p in polygons for c in p.exterior.coords] + [tuple(p) for p in points]
    if len(coordinates) < 3:
        return None
    hull = MultiPoint(coordinates).convex_hull
    return hull if isinstance(hull, Polygon) and hull.area >= MIN_AREA_M2 else None


def footprint_of(polygons: Iterable[Polygon]) -> Polygon | None:
    """Return the outer line of a building's spaces, wall gaps closed (inner courts are not holes of it)."""
    grown = [p.buffer(WALL_GAP_M / 2, join_style="mitre") for p in polygons]
    if not grown:
        return None
    merged = shapely.union_all(grown).buffer(-WALL_GAP_M / 2, join_style="mitre")
    largest = largest_polygon(merged)
    if largest is None:
        return None
    return Polygon(largest.exterior.coords)
