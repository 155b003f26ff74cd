"""The site's local metric frame as one PROJ definition, shared by the store (PostGIS) and ``gis/``.

East, north, up in metres around the site's geodetic origin: a transverse Mercator centred on
the origin, scaled by the elevation factor ``1 + h/R`` so that frame metres are true metres at
the origin's height, as BIM models are drawn (in Kunming, 1,890 m up, ellipsoid metres are
0.3 mm/m short). PostGIS (``ST_Transform(geom, proj)``), pyproj in ``gis.LocalFrame`` and the BIM
placement all read this one string, so a footprint derived in SQL and one projected in Python
land on the same millimetre.
"""

from __future__ import annotations

import math

_A = 6378137.0
_E2 = 0.00669437999014
"""WGS84 semi-major axis and first eccentricity squared."""


def elevation_scale(lat: float, height: float) -> float:
    """Return frame metres per ellipsoid metre at ``height`` (the Gaussian mean radius at ``lat``)."""
    sin_lat = math.sin(math.radians(lat))
    gaussian_radius = _A * math.sqrt(1 - _E2) / (1 - _E2 * sin_lat * sin_lat)
    return 1.0 + height / gaussian_radius


def local_frame_proj(lat: float, lon: float, height: float = 0.0) -> str:
    """Return the PROJ definition of the frame around (lat, lon, height): metres east/north of it."""
    return (
        f"+proj=tmerc +lat_0={lat!r} +lon_0={lon!r} +k={elevation_scale(lat, height)!r} +x_0=0 +y_0=0 "
        "+ellps=WGS84 +towgs84=0,0,0 +units=m +no_defs +type=crs"
    )
