"""Validation of a layer's geometries: what is repaired, what is rejected, what looks wrong.

Each check returns :class:`~gis.model.Issue` records naming the feature by its index in the file,
so the person importing can find it in QGIS. Repairs use shapely's ``make_valid`` keeping the
geometry's dimension (a self-intersecting parcel stays a polygon, not a polygon and a stray line).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from gis.model import Issue, IssueCode, Severity

_GEOD = Geod(ellps="WGS84")
_FAMILIES = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "LinearRing": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "GeometryCollection": "collection",
}


@dataclass(frozen=True, slots=True)
class CheckedGeometries:
    """The geometries after checks (None where rejected), with the findings."""

    geometries: tuple[BaseGeometry | None, ...]
    issues: tuple[Issue, ...]

    @property
    def rejected(self) -> tuple[Issue, ...]:
        """Return the rejection issues, one per rejected feature."""
        return tuple(i for i in self.issues if i.code is IssueCode.REJECTED)


def check_geometries(geometries: Sequence[BaseGeometry | None], indices: Sequence[int]) -> CheckedGeometries:
    """Reject null, empty and non-finite geometries, drop Z to 2D, and repair invalid ones."""
    kept: list[BaseGeometry | None] = []
    issues: list[Issue] = []
    with_z: list[int] = []
    for geometry, index in zip(geometries, indices, strict=True):
        reason = _rejection(geometry)
        if reason is not None:
            issues.append(Issue(IssueCode.REJECTED, Severity.ERROR, f"feature {index}: {reason}", index))
            kept.append(None)
            continue
        assert geometry is not None
        if shapely.has_z(geometry):
            with_z.append(index)
            geometry = shapely.force_2d(geometry)
        geometry, issue = repair(geometry, index)
        if issue is not None:
            issues.append(issue)
        kept.append(geometry)
    if with_z:
        issues.append(
            Issue(
                IssueCode.DROPPED_Z,
                Severity.WARNING,
                f"{len(with_z)} feature(s) had 3D coordinates, dropped to 2D (first: feature {with_z[0]}); "
                "heights come from attributes, not from Z",
                with_z[0],
            )
        )
    return CheckedGeometries(tuple(kept), tuple(issues))


def repair(geometry: BaseGeometry, index: int, when: str = "") -> tuple[BaseGeometry | None, Issue | None]:
    """Return a valid geometry of the same dimension and the issue saying what was done, if anything.

    None comes back, with a rejection, when nothing of the geometry survives the repair.
    """
    if shapely.is_valid(geometry):
        return geometry, None
    why = shapely.is_valid_reason(geometry)
    repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    if repaired.is_empty:
        message = f"feature {index}: invalid{when} ({why}), nothing left after repair"
        return None, Issue(IssueCode.REJECTED, Severity.ERROR, message, index)
    return repaired, Issue(
        IssueCode.REPAIRED, Severity.WARNING, f"feature {index}: repaired{when} ({why})", index
    )


def _rejection(geometry: BaseGeometry | None) -> str | None:
    if geometry is None:
        return "null geometry"
    if geometry.is_empty:
        return "empty geometry"
    coordinates = shapely.get_coordinates(geometry, include_z=bool(shapely.has_z(geometry)))
    if not np.isfinite(coordinates).all():
        return "non-finite coordinate (NaN or infinity)"
    return None


def mixed_types(geometries: Sequence[BaseGeometry | None], indices: Sequence[int]) -> Issue | None:
    """Report a layer mixing points, lines and polygons (Polygon with MultiPolygon is not mixing)."""
    families: Counter[str] = Counter()
    first: dict[str, int] = {}
    for geometry, index in zip(geometries, indices, strict=True):
        if geometry is None:
            continue
        family = _FAMILIES.get(geometry.geom_type, geometry.geom_type)
        families[family] += 1
        first.setdefault(family, index)
    if len(families) <= 1:
        return None
    parts = ", ".join(
        f"{count} {family} (first: feature {first[family]})" for family, count in families.most_common()
    )
    minority = families.most_common()[-1][0]
    return Issue(IssueCode.MIXED_TYPES, Severity.WARNING, f"mixed geometry types: {parts}", first[minority])


def looks_swapped_geographic(bounds: tuple[float, float, float, float]) -> bool:
    """Return True when lon/lat bounds only make sense with the axes swapped (|lat| > 90, |lon| ≤ 90)."""
    min_x, min_y, max_x, max_y = bounds
    latitude_impossible = min_y < -90 or max_y > 90
    swapped_possible = -90 <= min_x and max_x <= 90 and -180 <= min_y and max_y <= 180
    return latitude_impossible and swapped_possible


def distance_km(lon: float, lat: float, origin_lat: float, origin_lon: float) -> float:
    """Return the geodesic distance in km from the origin to a point (inf for a non-position)."""
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 360:
        return math.inf
    _, _, metres = _GEOD.inv(origin_lon, origin_lat, lon, lat)
    return float(metres) / 1000.0


def far_from_site(
    geometries: Sequence[BaseGeometry | None],
    indices: Sequence[int],
    origin: tuple[float, float],
    far_km: float,
) -> list[Issue]:
    """Flag WGS84 features whose nearest point lies more than ``far_km`` from the site origin."""
    lat0, lon0 = origin
    issues: list[Issue] = []
    site = shapely.Point(lon0, lat0)
    for geometry, index in zip(geometries, indices, strict=True):
        if geometry is None:
            continue
        _, nearest = nearest_points(site, geometry)
        km = distance_km(nearest.x, nearest.y, lat0, lon0)
        if km > far_km:
            issues.append(
                Issue(
                    IssueCode.FAR_FROM_SITE,
                    Severity.WARNING,
                    f"feature {index}: {km:.1f} km from the site origin (limit {far_km:g} km)",
                    index,
                )
            )
    return issues
