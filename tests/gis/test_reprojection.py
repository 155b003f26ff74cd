"""Reading layers drawn in the CRSs Chinese sites come in: CGCS2000, its Gauss–Krüger zones, Web Mercator.

The Kunming footprints are projected with pyproj into each CRS and written as a GeoPackage (a
Shapefile without its ``.prj`` for one zone), then read back: every vertex must land within 5 cm of
the original lon/lat. A point on a zone's central meridian is an independent control: its easting
is the false easting and its northing the meridian arc, which the geodesic library measures
without any map projection.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from gis import GisImportError, GisLayer, cgcs2000_gauss_kruger, read_layer

CGCS2000_GEOD = Geod(a=6378137.0, f=1 / 298.257222101)
"""The CGCS2000 ellipsoid (it differs from GRS80 only in the 10th digit of the flattening)."""


def _metres_between(ours: np.ndarray, expected: np.ndarray) -> np.ndarray:
    _, _, distance = CGCS2000_GEOD.inv(ours[:, 0], ours[:, 1], expected[:, 0], expected[:, 1])
    return np.asarray(distance)


def _projected(kunming: GisLayer, code: int) -> gpd.GeoDataFrame:
    to_crs = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True)
    geometries = [
        shapely.transform(f.geometry, lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1])))
        for f in kunming.features
    ]
    ids = [f.source_id for f in kunming.features]
    return gpd.GeoDataFrame({"id": ids, "building": "apartments"}, geometry=geometries, crs=f"EPSG:{code}")


@pytest.mark.parametrize(
    ("code", "what"),
    [
        (4490, "CGCS2000 geographic (lat/lon axis order by its definition)"),
        (4543, "CGCS2000 3° Gauss–Krüger, CM 102°E"),
        (4522, "CGCS2000 3° Gauss–Krüger zone 34, eastings prefixed with the zone"),
        (4507, "CGCS2000 6° Gauss–Krüger, CM 105°E"),
        (3857, "Web Mercator"),
        (32648, "WGS 84 / UTM 48N"),
    ],
)
def test_footprints_drawn_in_a_crs_come_back_within_5_cm(
    kunming: GisLayer, tmp_path: Path, code: int, what: str
) -> None:
    """The CRS is read from the GeoPackage, named and stored by SRID, and every vertex is back to < 5 cm."""
    path = tmp_path / f"kunming_{code}.gpkg"
    _projected(kunming, code).to_file(path, driver="GPKG", engine="pyogrio")
    layer = read_layer(path, kind="footprints")
    assert (layer.source_crs, layer.source_srid) == (f"EPSG:{code}", code), what
    assert len(layer.features) == 140 and not layer.issues, layer.issues
    for ours, original in zip(layer.features, kunming.features, strict=True):
        assert ours.source_id == original.source_id
        got, expected = shapely.get_coordinates(ours.geometry), shapely.get_coordinates(original.geometry)
        assert got.shape == expected.shape
        assert _metres_between(got, expected).max() < 0.05, f"{what}: feature {ours.index}"


def test_a_gauss_kruger_shapefile_without_prj_reads_with_the_declared_zone(kunming: GisLayer, tmp_path: Path) -> None:
    """A survey office's Shapefile often comes without .prj; the zone named for the site makes it right."""
    code = cgcs2000_gauss_kruger(102.7195)
    path = tmp_path / "survey.shp"
    _projected(kunming, code).to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    layer = read_layer(path, crs=f"EPSG:{code}")
    moved = [  # a Shapefile winds outer rings clockwise: compare the rings from the same vertex
        _metres_between(
            shapely.get_coordinates(shapely.normalize(a.geometry)),
            shapely.get_coordinates(shapely.normalize(b.geometry)),
        ).max()
        for a, b in zip(layer.features, kunming.features, strict=True)
    ]
    assert layer.source_srid == code == 4543 and max(moved) < 0.05


@pytest.mark.parametrize("lat", [25.0729, 39.915, 45.75])
def test_a_point_on_the_central_meridian_is_the_meridian_arc(tmp_path: Path, lat: float) -> None:
    """Control point independent of any projection code: on CM 102°E (EPSG:4543, scale 1, false
    easting 500 km) the point (500 000, arc(lat)) is at (102°, lat); the arc is a geodesic along the
    meridian from the equator."""
    _, _, arc = CGCS2000_GEOD.inv(102.0, 0.0, 102.0, lat)
    path = tmp_path / "control.gpkg"
    gpd.GeoDataFrame({"id": ["cm"]}, geometry=[shapely.Point(500_000.0, arc)], crs="EPSG:4543").to_file(
        path, driver="GPKG", engine="pyogrio"
    )
    (feature,) = read_layer(path).features
    got = shapely.get_coordinates(feature.geometry)
    assert _metres_between(got, np.array([[102.0, lat]]))[0] < 0.05


def test_gauss_kruger_with_x_as_northing_is_caught_by_the_site_origin(kunming: GisLayer, tmp_path: Path) -> None:
    """Chinese surveys call the northing X: a file written (northing, easting) is found swapped against
    the site, refused with both distances, and read right when the swap is asked for."""
    frame = _projected(kunming, 4543)
    frame.geometry = frame.geometry.apply(lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]))
    path = tmp_path / "survey_xy.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    site = (25.0729, 102.7195)
    with pytest.raises(
        GisImportError, match=r"survey_xy\.gpkg: latitude and longitude look swapped .*km from the site"
    ):
        read_layer(path, site_origin=site)
    layer = read_layer(path, site_origin=site, swap_axes=True)
    got = shapely.get_coordinates(layer.features[0].geometry)
    assert _metres_between(got, shapely.get_coordinates(kunming.features[0].geometry)).max() < 0.05
