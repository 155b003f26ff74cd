"""The site's local metric frame: east, north, up in metres around a geodetic origin.

The frame is a transverse Mercator projection centred on the origin with scale 1 there: across a
residential site (a few km) it differs from a true tangent-plane ENU by far less than a millimetre
horizontally, it is conformal (angles and building outlines keep their shape), and, unlike a
topocentric frame, "up" stays the ellipsoidal height above the origin, so a flat site stays flat.
Its scale is the elevation factor ``1 + h/R``: at the origin's height, frame metres are true metres,
as BIM models are drawn (in Kunming, 1,890 m up, ellipsoid metres are 0.3 mm/m short).
The PROJ string is :func:`twin.graph.frame.local_frame_proj`, the one the store derives map
footprints with in PostGIS, so both sides apply the same transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from gis.errors import GisError
from twin.graph.frame import elevation_scale, local_frame_proj

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """East, north, up (metres) around the WGS84 origin ``lat``, ``lon``, ``height`` (ellipsoidal)."""

    lat: float
    lon: float
    height: float = 0.0
    _forward: Transformer = field(init=False, repr=False, compare=False)
    _inverse: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse an origin that is not a place on Earth, then build both transformers once."""
        values = (self.lat, self.lon, self.height)
        if not all(math.isfinite(v) for v in values) or abs(self.lat) > 90 or abs(self.lon) > 180:
            raise GisError(
                f"site origin lat={self.lat}, lon={self.lon}, height={self.height} is not a WGS84 position "
                "(latitude within ±90°, longitude within ±180°; were they swapped?)"
            )
        object.__setattr__(
            self, "_forward", Transformer.from_crs("EPSG:4326", self.proj_string(), always_xy=True)
        )
        object.__setattr__(
            self, "_inverse", Transformer.from_crs(self.proj_string(), "EPSG:4326", always_xy=True)
        )

    @property
    def scale(self) -> float:
        """Return the elevation factor: frame metres per ellipsoid metre at the origin's height."""
        return elevation_scale(self.lat, self.height)

    def proj_string(self) -> str:
        """Return the PROJ definition of the frame: the twin's one definition, which PostGIS uses too."""
        return local_frame_proj(self.lat, self.lon, self.height)

    def points_to_local(self, lonlat: ArrayLike) -> Array:
        """Return (N, 2|3) east/north[/up] metres for (N, 2|3) lon/lat[/height] degrees."""
        points = _points(lonlat)
        east, north = self._forward.transform(points[:, 0], points[:, 1], errcheck=True)
        return _stack(east, north, points, -self.height)

    def points_to_wgs84(self, enu: ArrayLike) -> Array:
        """Return (N, 2|3) lon/lat[/height] degrees for (N, 2|3) east/north[/up] metres."""
        points = _points(enu)
        lon, lat = self._inverse.transform(points[:, 0], points[:, 1], errcheck=True)
        return _stack(lon, lat, points, self.height)

    def to_local(self, geometry: BaseGeometry) -> BaseGeometry:
        """Return a WGS84 (lon/lat) shapely geometry in the local frame."""
        return _transform(geometry, self.points_to_local)

    def to_wgs84(self, geometry: BaseGeometry) -> BaseGeometry:
        """Return a local-frame shapely geometry in WGS84 lon/lat."""
        return _transform(geometry, self.points_to_wgs84)


def _points(values: ArrayLike) -> Array:
    points = np.asarray(values, dtype=float)
    if points.ndim == 1:
        points = points.reshape(1, -1)
    if points.ndim != 2 or points.shape[1] not in (2, 3):
        raise GisError(f"expected an (N, 2) or (N, 3) array of coordinates, got shape {points.shape}")
    return points


def _stack(x: Array, y: Array, points: Array, z_shift: float) -> Array:
    columns = [np.asarray(x, dtype=float), np.asarray(y, dtype=float)]
    if points.shape[1] == 3:
        columns.append(points[:, 2] + z_shift)
    return np.column_stack(columns)


def _transform(geometry: BaseGeometry, points: object) -> BaseGeometry:
    has_z = bool(shapely.has_z(geometry))
    result: BaseGeometry = shapely.transform(geometry, points, include_z=has_z)
    return result
