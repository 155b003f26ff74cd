"""The one polygon a building needs, from whatever a footprint layer holds (MultiPolygon, collections)."""

from __future__ import annotations

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry


def largest_polygon(geometry: BaseGeometry) -> Polygon | None:
    """Return the largest valid polygon with an area in a geometry, or None."""
    parts = shapely.get_parts(shapely.make_valid(geometry)) if not geometry.is_valid else shapely.get_parts(geometry)
    polygons = [p for part in parts for p in shapely.get_parts(part) if isinstance(p, Polygon) and p.area > 0]
    return max(polygons, key=lambda p: p.area) if polygons else None
