"""Georeference reconciliation: how far and how turned a BIM building stands from its GIS footprint.

Works in a local metric frame (east, north), so offsets are metres and angles true. The fit is a
2D similarity — rotation and translation, scale only when asked (a model drawn in millimetres
read as metres is a units error to report, not to absorb). It starts from the minimum rotated
rectangles of both outlines, which fixes the angle up to the rectangle's quarter-turn symmetry,
tries each quarter turn, and refines each by ICP: points along the BIM outline paired with the
nearest points of the footprint's boundary, then the closed-form least-squares (Umeyama) fit.
The start with the smallest residual wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from gis.errors import GisError
from gis.frame import LocalFrame
from gis.linking import iou

Array = NDArray[np.float64]
_SAMPLES = 240
_ITERATIONS = 60
_CONVERGED_M = 1e-7


@dataclass(frozen=True, slots=True)
class RigidTransform2D:
    """``p' = scale · R(rotation) · p + (tx, ty)`` on east/north metres; rotation counter-clockwise."""

    rotation_deg: float
    tx: float
    ty: float
    scale: float = 1.0

    def matrix(self) -> list[list[float]]:
        """Return the 3×3 homogeneous matrix, as the store and the 3D view apply it."""
        angle = math.radians(self.rotation_deg)
        c, s = self.scale * math.cos(angle), self.scale * math.sin(angle)
        return [[c, -s, self.tx], [s, c, self.ty], [0.0, 0.0, 1.0]]

    def apply_points(self, points: ArrayLike) -> Array:
        """Return (N, 2) points moved by the transform."""
        xy = np.asarray(points, dtype=float).reshape(-1, 2)
        m = np.asarray(self.matrix())
        moved: Array = xy @ m[:2, :2].T + m[:2, 2]
        return moved

    def apply(self, geometry: BaseGeometry) -> BaseGeometry:
        """Return a local-frame geometry moved by the transform."""
        moved: BaseGeometry = shapely.transform(geometry, self.apply_points)
        return moved


@dataclass(frozen=True, slots=True)
class Alignment:
    """The disagreement between a BIM outline and its footprint, and the fit that removes it."""

    offset_east_m: float
    offset_north_m: float
    """Footprint centroid minus BIM centroid: how far the BIM building must move, before rotation."""
    rotation_deg: float
    """Counter-clockwise turn, in (-180, 180], that puts the BIM outline onto the footprint."""
    transform: RigidTransform2D
    """The fit, acting on coordinates of ``frame``."""
    residual_m: float
    """Root mean square distance from the fitted BIM outline to the footprint boundary."""
    iou_before: float
    iou_after: float
    frame: LocalFrame

    @property
    def offset_m(self) -> float:
        """Return the centroid offset as a distance in metres."""
        return math.hypot(self.offset_east_m, self.offset_north_m)


def align_outline(
    bim_outline: BaseGeometry,
    footprint: BaseGeometry,
    *,
    frame: LocalFrame | None = None,
    allow_scale: bool = False,
) -> Alignment:
    """Fit the BIM outline (EPSG:4326) onto its footprint (EPSG:4326) and report the difference."""
    for label, geometry in (("BIM outline", bim_outline), ("footprint", footprint)):
        if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise GisError(
                f"cannot align: the {label} is not a polygon ({getattr(geometry, 'geom_type', None)})"
            )
    if frame is None:
        centre = footprint.centroid
        frame = LocalFrame(lat=centre.y, lon=centre.x)
    bim, target = frame.to_local(bim_outline), frame.to_local(footprint)
    source_points = _boundary_samples(bim)
    target_boundary = target.boundary
    best: tuple[float, RigidTransform2D] | None = None
    for start in _starting_angles(bim, target):
        fitted = _icp(source_points, target_boundary, _start(bim, target, start), allow_scale)
        residual = _residual(fitted.apply_points(source_points), target_boundary)
        if best is None or residual < best[0] - 1e-9:
            best = (residual, fitted)
    assert best is not None
    residual, transform = best
    offset = np.asarray(target.centroid.coords[0]) - np.asarray(bim.centroid.coords[0])
    return Alignment(
        offset_east_m=float(offset[0]),
        offset_north_m=float(offset[1]),
        rotation_deg=transform.rotation_deg,
        transform=transform,
        residual_m=residual,
        iou_before=iou(bim, target),
        iou_after=iou(transform.apply(bim), target),
        frame=frame,
    )


def _boundary_samples(polygon: BaseGeometry) -> Array:
    boundary = polygon.boundary
    distances = np.linspace(0.0, boundary.length, _SAMPLES, endpoint=False)
    points = shapely.line_interpolate_point(boundary, distances)
    vertices = shapely.get_coordinates(boundary)
    return np.vstack([shapely.get_coordinates(points), vertices])


def _orientation_deg(polygon: BaseGeometry) -> float:
    ring = np.asarray(shapely.minimum_rotated_rectangle(polygon).exterior.coords)
    edges = np.diff(ring[:3], axis=0)
    longest = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
    return math.degrees(math.atan2(longest[1], longest[0]))


def _starting_angles(bim: BaseGeometry, target: BaseGeometry) -> list[float]:
    delta = _orientation_deg(target) - _orientation_deg(bim)
    return [0.0, *(delta + quarter for quarter in (0.0, 90.0, 180.0, 270.0))]


def _start(bim: BaseGeometry, target: BaseGeometry, angle_deg: float) -> RigidTransform2D:
    turned = RigidTransform2D(angle_deg, 0.0, 0.0)
    moved_centroid = turned.apply_points(np.asarray(bim.centroid.coords))[0]
    tx, ty = np.asarray(target.centroid.coords[0]) - moved_centroid
    return RigidTransform2D(angle_deg, float(tx), float(ty))


def _icp(
    source: Array, boundary: BaseGeometry, start: RigidTransform2D, allow_scale: bool
) -> RigidTransform2D:
    current = start
    for _ in range(_ITERATIONS):
        matched = _nearest_on(boundary, current.apply_points(source))
        fitted = _umeyama(source, matched, allow_scale)
        step = float(np.max(np.abs(fitted.apply_points(source) - current.apply_points(source))))
        current = fitted
        if step < _CONVERGED_M:
            break
    return current


def _nearest_on(boundary: BaseGeometry, points: Array) -> Array:
    geometries = shapely.points(points)
    at = shapely.line_locate_point(boundary, geometries)
    return np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(boundary, at)), dtype=float)


def _umeyama(source: Array, target: Array, allow_scale: bool) -> RigidTransform2D:
    """Return the least-squares similarity taking ``source`` points onto ``target`` points."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s0, t0 = source - mu_s, target - mu_t
    u, singular, vt = np.linalg.svd(t0.T @ s0 / len(source))
    d = np.diag([1.0, float(np.sign(np.linalg.det(u @ vt))) or 1.0])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(singular) @ d) / np.mean(np.sum(s0**2, axis=1))) if allow_scale else 1.0
    translation = mu_t - scale * rotation @ mu_s
    angle = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    if angle <= -180.0:
        angle += 360.0
    return RigidTransform2D(angle, float(translation[0]), float(translation[1]), scale)


def _residual(points: Array, boundary: BaseGeometry) -> float:
    if not np.isfinite(points).all():
        raise GisError("cannot align: the fit diverged (degenerate outline?)")
    distances = shapely.distance(shapely.points(points), boundary)
    return float(np.sqrt(np.mean(np.asarray(distances, dtype=float) ** 2)))
