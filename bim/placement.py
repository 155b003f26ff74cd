"""Model world metres to the site frame: where a georeferenced model stands in its community.

The model's world frame (metres, Z up, minus the re-centring offset) becomes the site's local
frame (east, north, up around the site origin) by one affine map: a 2D similarity and a height
shift. It is measured, not derived by formula: the model origin and two points 100 m along its
+X and +Y axes are walked on the ellipsoid (bearing from the georeference, distances shortened by
the frame's elevation scale) and projected with the site frame's own PROJ definition, so grid
convergence between model and site origins, and the frame's scale, are both accounted for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyproj

from bim.model import BimGeoref, Point2, Point3
from twin.graph.frame import elevation_scale, local_frame_proj

Matrix = tuple[tuple[float, ...], ...]
_GEOD = pyproj.Geod(ellps="WGS84")
_STEP_M = 100.0


@dataclass(frozen=True, slots=True)
class ModelPlacement:
    """A 4×4 row-major affine map from model world metres to site frame metres."""

    matrix: Matrix

    @classmethod
    def identity(cls) -> ModelPlacement:
        """Return the placement that leaves coordinates as they are."""
        return cls.from_array(np.eye(4))

    @classmethod
    def from_array(cls, array: np.ndarray | Sequence[Sequence[float]]) -> ModelPlacement:
        """Return a placement from a 4×4 array (rounded to 1e-12, so re-imports compare equal)."""
        values = np.round(np.asarray(array, dtype=float).reshape(4, 4), 12)
        rows = tuple(tuple(float(v) for v in row) for row in values)
        return cls((rows[0], rows[1], rows[2], rows[3]))

    def array(self) -> np.ndarray:
        """Return the matrix as a numpy array."""
        return np.asarray(self.matrix, dtype=float)

    def then(self, alignment: Sequence[Sequence[float]]) -> ModelPlacement:
        """Return this placement followed by a 3×3 homogeneous 2D transform of the site frame."""
        a = np.asarray(alignment, dtype=float)
        lifted = np.eye(4)
        lifted[:2, :2] = a[:2, :2]
        lifted[:2, 3] = a[:2, 2]
        return ModelPlacement.from_array(lifted @ self.array())

    def point(self, p: Point3) -> Point3:
        """Return a model point in the site frame."""
        x, y, z = (self.array() @ np.array([p[0], p[1], p[2], 1.0]))[:3]
        return (float(x), float(y), float(z))

    def ring(self, ring: Iterable[Point2]) -> list[Point2]:
        """Return a model ring (x, y) in the site frame."""
        points = np.asarray(list(ring), dtype=float).reshape(-1, 2)
        m = self.array()
        moved = points @ m[:2, :2].T + m[:2, 3]
        return [(float(x), float(y)) for x, y in moved]

    def height(self, z: float) -> float:
        """Return a model height in the site frame."""
        return float(z + self.array()[2, 3])

    def as_list(self) -> list[list[float]]:
        """Return the matrix as nested lists, as stored and served."""
        return [list(row) for row in self.matrix]


def place_model(
    georef: BimGeoref, site_lat: float, site_lon: float, site_height: float
) -> tuple[ModelPlacement, list[str]]:
    """Return the placement of a model in a site frame, and what the placement had to assume."""
    if georef.latitude is None or georef.longitude is None:
        bearing = np.radians(georef.rotation_deg)
        m = np.eye(4)
        m[:2, :2] = [[np.cos(bearing), np.sin(bearing)], [-np.sin(bearing), np.cos(bearing)]]
        return ModelPlacement.from_array(m), [
            "the model carries no usable georeference: its origin is put at the site origin"
        ]
    to_site = pyproj.Transformer.from_crs(
        "EPSG:4326", local_frame_proj(site_lat, site_lon, site_height), always_xy=True
    )
    step = _STEP_M / elevation_scale(site_lat, site_height)
    lon0, lat0 = georef.longitude, georef.latitude
    lons, lats, _ = _GEOD.fwd([lon0, lon0], [lat0, lat0], [georef.rotation_deg + 90.0, georef.rotation_deg], [step] * 2)
    east, north = to_site.transform([lon0, *lons], [lat0, *lats], errcheck=True)
    origin = np.array([east[0], north[0]])
    m = np.eye(4)
    m[:2, 0] = (np.array([east[1], north[1]]) - origin) / _STEP_M
    m[:2, 1] = (np.array([east[2], north[2]]) - origin) / _STEP_M
    m[:2, 3] = origin
    m[2, 3] = (georef.height or 0.0) - site_height
    return ModelPlacement.from_array(m), []
