"""Coordinate reference systems: naming, PostGIS SRIDs, CGCS2000 zones, and the GCJ-02 trap.

Everything pyproj knows is accepted (EPSG codes, WKT, ``.prj`` ESRI WKT, PROJ strings). China adds
two habits: CGCS2000 (EPSG:4490) with its Gauss–Krüger zones, which pyproj knows, and GCJ-02, the
obfuscated datum of Amap and Tencent maps, which is *not* a CRS (no PROJ definition, a non-linear
offset of a few hundred metres). GCJ-02 input is refused unless the caller asks to convert it.
"""

from __future__ import annotations

import math

from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from gis.errors import CrsError

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "GCJ-02"
"""The name to pass as ``crs=`` (with ``convert_gcj02=True``) for Amap/Tencent coordinates."""

_GCJ02_NAMES = frozenset({"gcj-02", "gcj02", "gcj_02", "gcj 02", "火星坐标", "火星坐标系", "mars"})

CrsLike = str | int | CRS


def is_gcj02(crs: object) -> bool:
    """Return True when a declared CRS names GCJ-02, which pyproj cannot transform."""
    return isinstance(crs, str) and crs.strip().lower() in _GCJ02_NAMES


def resolve_crs(crs: CrsLike) -> CRS:
    """Return the pyproj CRS for an EPSG code, ``AUTH:CODE``, WKT or PROJ string, or say why not."""
    if isinstance(crs, CRS):
        return crs
    if is_gcj02(crs):
        raise CrsError(
            "GCJ-02 (Amap/Tencent 'Mars' coordinates) is not a CRS pyproj can transform; "
            "convert it explicitly (convert_gcj02=True) or export WGS84/CGCS2000 from the source"
        )
    try:
        return CRS.from_user_input(crs)
    except ProjCRSError as exc:
        raise CrsError(f"unknown coordinate reference system {crs!r}: {_first_line(exc)}") from None


def crs_label(crs: CrsLike) -> str:
    """Return ``AUTHORITY:CODE`` when the CRS has one, else its name: what messages and the log show."""
    resolved = resolve_crs(crs)
    authority = resolved.to_authority(min_confidence=70)
    return ":".join(authority) if authority else resolved.name


def crs_to_srid(crs: CrsLike) -> int:
    """Return the PostGIS SRID of a CRS, the way geopandas does (EPSG first, then ESRI codes).

    Confidence is lowered step by step because ``.prj`` files carry ESRI WKT whose names differ
    from EPSG's ("WGS_1984_UTM_Zone_33S") although they are the same system.
    """
    resolved = resolve_crs(crs)
    for confidence in (100, 70, 25):
        epsg = resolved.to_epsg(min_confidence=confidence)
        if epsg is not None:
            return epsg
        esri = resolved.to_authority(auth_name="ESRI", min_confidence=confidence)
        if esri is not None:
            return int(esri[1])
    raise CrsError(f"no EPSG or ESRI code for the CRS {resolved.name!r}; PostGIS cannot store it by SRID")


def cgcs2000_gauss_kruger(lon: float, *, zone_width: int = 3, zone_prefix: bool = False) -> int:
    """Return the EPSG code of the CGCS2000 Gauss–Krüger zone holding a longitude (75°E–135°E).

    Chinese surveys use 3° zones for large scales (residential sites) and 6° zones for small ones;
    ``zone_prefix`` picks the variant whose eastings start with the zone number (EPSG:4513–4533
    and 4491–4501) rather than plain 500 km false eastings (EPSG:4534–4554 and 4502–4512).
    """
    if zone_width == 3:
        zone = math.floor(lon / 3 + 0.5)
        first_zone, prefixed, plain, last_zone = 25, 4513, 4534, 45
    elif zone_width == 6:
        zone = math.floor(lon / 6) + 1
        first_zone, prefixed, plain, last_zone = 13, 4491, 4502, 23
    else:
        raise CrsError(f"Gauss–Krüger zones are 3° or 6° wide, not {zone_width}°")
    if not first_zone <= zone <= last_zone:
        raise CrsError(f"longitude {lon}° is outside the CGCS2000 Gauss–Krüger zones (75°E–135°E)")
    return (prefixed if zone_prefix else plain) + zone - first_zone


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
