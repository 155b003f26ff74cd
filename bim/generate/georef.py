# mypy: disable-error-code="no-untyped-call"
"""Georeference the generated model twice, consistently: IfcMapConversion and IfcSite RefLatitude.

The model's origin is the scene's origin and its +Y axis is true north. In a projected CRS grid
north differs from true north by the meridian convergence, and grid metres from ground metres by
the projection's scale and the site's height; the conversion carries both, so a reader that
trusts IfcMapConversion and one that trusts the site's latitude put the towers in the same place.
"""

from __future__ import annotations

import math

import pyproj

from bim.generate.writer import IfcWriter, dms, run, unit_vector
from twin.graph.frame import elevation_scale
from twin.scenes.plan import Community

_GEOD = pyproj.Geod(ellps="WGS84")


def georeference(writer: IfcWriter, site: object) -> None:
    """Write the map conversion (when the scene names a projected CRS) and the site's location."""
    spec = writer.community.site
    model = writer.model
    site.RefLatitude = dms(spec.latitude)  # type: ignore[attr-defined]
    site.RefLongitude = dms(spec.longitude)  # type: ignore[attr-defined]
    site.RefElevation = spec.height  # type: ignore[attr-defined]
    run("georeference.edit_true_north", model, true_north=(0.0, 1.0))
    crs = pyproj.CRS.from_user_input(spec.crs)
    if not crs.is_projected:
        return
    eastings, northings, theta, scale = map_conversion(writer.community, crs)
    run("georeference.add_georeferencing", model, ifc_class="IfcMapConversion", name=spec.crs)
    abscissa, ordinate = unit_vector(theta)
    run(
        "georeference.edit_georeferencing",
        model,
        projected_crs={"Name": spec.crs, "Description": crs.name},
        coordinate_operation={
            "Eastings": round(eastings, 4),
            "Northings": round(northings, 4),
            "OrthogonalHeight": spec.height,
            "XAxisAbscissa": abscissa,
            "XAxisOrdinate": ordinate,
            "Scale": round(scale, 9),
        },
    )


def map_conversion(community: Community, crs: pyproj.CRS) -> tuple[float, float, float, float]:
    """Return eastings, northings, the angle of model +X from grid east (radians) and the scale."""
    spec = community.site
    forward = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    east, north = forward.transform(spec.longitude, spec.latitude)
    lon, lat, _ = _GEOD.fwd(spec.longitude, spec.latitude, 0.0, 100.0)
    east2, north2 = forward.transform(lon, lat)
    # True north in the grid; model +Y points there, so model +X is 90° clockwise of it.
    theta = math.atan2(north2 - north, east2 - east) - math.pi / 2
    grid_per_ellipsoid = math.hypot(east2 - east, north2 - north) / 100.0
    return east, north, theta, grid_per_ellipsoid / elevation_scale(spec.latitude, spec.height)
