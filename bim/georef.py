# mypy: disable-error-code="no-untyped-call"
"""Where a model sits on Earth: the one home of IFC georeferencing in the project.

Sources, most trusted first: a georeference given by the operator, ``IfcMapConversion`` with
``IfcProjectedCRS`` (IFC4, IFC4X3), the IFC2X3 property sets ``ePSet_MapConversion`` and
``ePSet_ProjectedCRS`` on the project, then ``IfcSite.RefLatitude/RefLongitude/RefElevation``
with the context's ``TrueNorth``. A model that carries a map conversion *and* site coordinates
that disagree by more than :data:`AGREEMENT_M` is reported with both, since authoring tools
often leave a stale site location behind (the Duplex file was moved from Chicago to Luxembourg).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np
import pyproj
from pyproj.exceptions import CRSError, ProjError

from bim.model import BimGeoref, Point3

AGREEMENT_M = 100.0
RECENTRE_M = 1000.0
"""Coordinates beyond a kilometre lose millimetres in float32; such models are re-centred."""
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class _MapConversion:
    source: str
    crs: str
    eastings: float
    northings: float
    height: float
    theta: float
    """Angle of the model's +X axis from grid east, anticlockwise, radians."""
    scale: float
    warnings: tuple[str, ...]


def read_georef(
    model: ifcopenshell.file,
    *,
    unit_scale: float,
    positions: Sequence[Point3],
    given: BimGeoref | None = None,
) -> BimGeoref:
    """Return the georeference of the world frame, re-centred when the coordinates are large."""
    offset = recentring_offset(positions)
    warnings: list[str] = []
    if offset != (0.0, 0.0, 0.0):
        warnings.append(f"model coordinates are far from the origin: re-centred by {offset} m")
    if given is not None:
        return dataclasses.replace(
            given, source="given", offset=offset, warnings=(*given.warnings, *warnings)
        )
    site = _site_georef(model, unit_scale, offset)
    conversion = _map_conversion(model, unit_scale)
    if conversion is None:
        if site is None:
            return BimGeoref(
                source="none", offset=offset, warnings=(*warnings, "the model carries no georeference")
            )
        return dataclasses.replace(site, offset=offset, warnings=(*site.warnings, *warnings))
    mapped = _mapped_georef(conversion, offset)
    warnings.extend(mapped.warnings)
    other = None
    if site is not None and mapped.latitude is not None and site.latitude is not None:
        _, _, distance = _GEOD.inv(mapped.longitude, mapped.latitude, site.longitude, site.latitude)
        if distance > AGREEMENT_M:
            other = site
            warnings.append(
                f"georeferenced twice: {conversion.source} puts the origin at "
                f"{mapped.latitude:.6f}, {mapped.longitude:.6f} but IfcSite RefLatitude/RefLongitude say "
                f"{site.latitude:.6f}, {site.longitude:.6f} ({distance / 1000:.1f} km apart); "
                f"trusting {conversion.source}"
            )
    return dataclasses.replace(mapped, offset=offset, other=other, warnings=tuple(warnings))


def recentring_offset(positions: Sequence[Point3]) -> Point3:
    """Return the whole-metre offset that brings the bulk of the model near the origin, or zero."""
    if not positions:
        return (0.0, 0.0, 0.0)
    x = statistics.median(p[0] for p in positions)
    y = statistics.median(p[1] for p in positions)
    if max(abs(x), abs(y)) <= RECENTRE_M:
        return (0.0, 0.0, 0.0)
    return (float(round(x)), float(round(y)), 0.0)


def true_north_bearing(model: ifcopenshell.file) -> float:
    """Return the bearing of the model's +Y axis clockwise from true north, from TrueNorth."""
    for context in model.by_type("IfcGeometricRepresentationContext", include_subtypes=False):
        north = getattr(context, "TrueNorth", None)
        if north is not None and context.ContextType in ("Model", None):
            x, y = north.DirectionRatios[0], north.DirectionRatios[1]
            return _normalise(math.degrees(math.atan2(y, x)) - 90.0)
    return 0.0


def _site_georef(model: ifcopenshell.file, unit_scale: float, offset: Point3) -> BimGeoref | None:
    for site in model.by_type("IfcSite"):
        if site.RefLatitude is None or site.RefLongitude is None:
            continue
        latitude, longitude = _dms(site.RefLatitude), _dms(site.RefLongitude)
        height = float(site.RefElevation or 0.0) * unit_scale
        bearing = true_north_bearing(model)
        anchor = _placement(site, unit_scale)
        # RefLatitude locates the site's own origin; the world origin (plus offset) lies beside it.
        dx, dy = offset[0] - anchor[0], offset[1] - anchor[1]
        longitude, latitude = _walk(longitude, latitude, dx, dy, bearing)
        warnings: tuple[str, ...] = ()
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            warnings = (f"IfcSite {site.GlobalId}: RefLatitude/RefLongitude out of range",)
        return BimGeoref(
            source="IfcSite",
            latitude=latitude,
            longitude=longitude,
            height=height + offset[2] - anchor[2],
            rotation_deg=bearing,
            warnings=warnings,
        )
    return None


def _map_conversion(model: ifcopenshell.file, unit_scale: float) -> _MapConversion | None:
    if model.schema == "IFC2X3":
        # The buildingSMART guide puts the sets on the project; tools also put them on the site.
        holders = [*model.by_type("IfcProject"), *model.by_type("IfcSite")]
        found = [
            p for p in (ifcopenshell.util.element.get_psets(h) for h in holders) if "ePSet_MapConversion" in p
        ]
        if not found:
            return None
        psets = found[0]
        values = psets["ePSet_MapConversion"]
        crs_values = psets.get("ePSet_ProjectedCRS", {})
        map_unit = _named_length(str(crs_values.get("MapUnit") or "METRE"))
        return _conversion(
            "ePSet_MapConversion", str(crs_values.get("Name") or ""), values, unit_scale, map_unit
        )
    for operation in model.by_type("IfcMapConversion"):
        crs = operation.TargetCRS
        map_unit = unit_scale
        if getattr(crs, "MapUnit", None) is not None:
            map_unit = _unit_entity_scale(crs.MapUnit)
        values = operation.get_info(recursive=False)
        return _conversion("IfcMapConversion", str(crs.Name or ""), values, unit_scale, map_unit)
    return None


def _conversion(
    source: str, crs: str, values: dict[str, object], unit_scale: float, map_unit: float
) -> _MapConversion:
    warnings: list[str] = []
    abscissa = float(values.get("XAxisAbscissa") or 0.0)  # type: ignore[arg-type]
    ordinate = float(values.get("XAxisOrdinate") or 0.0)  # type: ignore[arg-type]
    if abscissa == 0 and ordinate == 0:
        abscissa = 1.0
    declared = float(values.get("Scale") or 1.0)  # type: ignore[arg-type]
    ratio = unit_scale / map_unit
    # Scale should turn model units into map units; exporters write 1 regardless, and the IFC4X3
    # documentation example writes the inverse. Keep any survey factor, fix the unit part.
    if math.isclose(declared, ratio, rel_tol=0.01):
        factor = declared / ratio
    elif math.isclose(declared * ratio, 1.0, rel_tol=0.01) and ratio != 1.0:
        factor = 1.0
        warnings.append(
            f"{source}: Scale {declared:g} is the inverse of the unit ratio {ratio:g}; used {ratio:g}"
        )
    elif math.isclose(declared, 1.0, rel_tol=0.01):
        factor = declared
        if ratio != 1.0:
            warnings.append(
                f"{source}: Scale 1 ignores the unit difference; applied the unit ratio {ratio:g}"
            )
    else:
        factor = declared / ratio
        warnings.append(f"{source}: unusual Scale {declared:g}; taken as a survey scale factor {factor:g}")
    return _MapConversion(
        source=source,
        crs=crs,
        eastings=float(values.get("Eastings") or 0.0) * map_unit,  # type: ignore[arg-type]
        northings=float(values.get("Northings") or 0.0) * map_unit,  # type: ignore[arg-type]
        height=float(values.get("OrthogonalHeight") or 0.0) * map_unit,  # type: ignore[arg-type]
        theta=math.atan2(ordinate, abscissa),
        scale=factor,
        warnings=tuple(warnings),
    )


def _mapped_georef(conversion: _MapConversion, offset: Point3) -> BimGeoref:
    easting, northing = _to_map(conversion, offset[0], offset[1])
    height = conversion.height + conversion.scale * offset[2]
    warnings = list(conversion.warnings)
    latitude = longitude = None
    bearing = _normalise(-math.degrees(conversion.theta))
    try:
        to_wgs84 = pyproj.Transformer.from_crs(
            pyproj.CRS.from_user_input(conversion.crs), 4326, always_xy=True
        )
        longitude, latitude = to_wgs84.transform(easting, northing)
        # Grid north is not true north away from the central meridian: measure +Y on the ellipsoid.
        ahead = _to_map(conversion, offset[0], offset[1] + 100.0)
        lon2, lat2 = to_wgs84.transform(*ahead)
        bearing = _normalise(_GEOD.inv(longitude, latitude, lon2, lat2)[0])
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            raise ProjError("not finite")
    except (CRSError, ProjError):
        warnings.append(
            f"{conversion.source}: CRS {conversion.crs!r} unknown to PROJ; latitude/longitude left empty"
        )
        latitude = longitude = None
    return BimGeoref(
        source=conversion.source,
        latitude=latitude,
        longitude=longitude,
        height=height,
        crs=conversion.crs,
        eastings=easting,
        northings=northing,
        orthogonal_height=height,
        rotation_deg=bearing,
        scale=conversion.scale,
        warnings=tuple(warnings),
    )


def _to_map(conversion: _MapConversion, x: float, y: float) -> tuple[float, float]:
    cos, sin, s = math.cos(conversion.theta), math.sin(conversion.theta), conversion.scale
    return conversion.eastings + s * (cos * x - sin * y), conversion.northings + s * (sin * x + cos * y)


def _walk(longitude: float, latitude: float, dx: float, dy: float, bearing: float) -> tuple[float, float]:
    distance = math.hypot(dx, dy)
    if distance == 0:
        return longitude, latitude
    # The model's +Y has bearing `bearing`; a vector at math angle a from +X has bearing bearing + 90 - a.
    azimuth = bearing + 90.0 - math.degrees(math.atan2(dy, dx))
    lon, lat, _ = _GEOD.fwd(longitude, latitude, azimuth, distance)
    return lon, lat


def _placement(product: ifcopenshell.entity_instance, unit_scale: float) -> Point3:
    if product.ObjectPlacement is None:
        return (0.0, 0.0, 0.0)
    matrix = ifcopenshell.util.placement.get_local_placement(product.ObjectPlacement)
    x, y, z = (np.asarray(matrix)[:3, 3] * unit_scale).tolist()
    return (x, y, z)


def _dms(value: Sequence[int]) -> float:
    parts = list(value) + [0] * (4 - len(value))
    return float(parts[0] + parts[1] / 60 + parts[2] / 3600 + parts[3] / 3600e6)


def _normalise(angle: float) -> float:
    angle = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if angle == -180.0 else angle


def _unit_entity_scale(unit: ifcopenshell.entity_instance) -> float:
    if unit.is_a("IfcSIUnit"):
        return float(ifcopenshell.util.unit.get_prefix_multiplier(unit.Prefix))
    if unit.is_a("IfcConversionBasedUnit"):
        factor = unit.ConversionFactor
        return float(factor.ValueComponent.wrappedValue) * _unit_entity_scale(factor.UnitComponent)
    return 1.0


def _named_length(name: str) -> float:
    return {"MILLIMETRE": 0.001, "CENTIMETRE": 0.01, "FOOT": 0.3048, "US SURVEY FOOT": 1200 / 3937}.get(
        name.upper().replace("METER", "METRE"), 1.0
    )
