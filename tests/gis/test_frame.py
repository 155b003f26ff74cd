"""The site frame and reprojection, checked against pyproj's own pipelines on control points."""

from __future__ import annotations

import math

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from gis import GisError, GisLayer, IssueCode, LocalFrame
from tests.gis.conftest import PARCELS
from tests.shared import shared_file

KUNMING_ORIGIN = LocalFrame(lat=25.0729, lon=102.7195, height=1890.0)
GEOD = Geod(ellps="WGS84")


def _metres_between(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    _, _, distance = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(distance)


def test_utm_parcels_match_pyproj_on_control_vertices(parcels: GisLayer) -> None:
    """Vertices of parcels untouched by repair land where pyproj alone puts them (< 5 cm)."""
    raw = pyogrio.read_dataframe(shared_file(PARCELS))
    repaired = {i.feature_index for i in parcels.issues if i.code is IssueCode.REPAIRED}
    controls = [i for i in range(0, 2008, 97) if i not in repaired]
    utm_to_wgs84 = Transformer.from_crs(CRS.from_wkt(raw.crs.to_wkt()), "EPSG:4326", always_xy=True)
    by_index = {f.index: f for f in parcels.features}
    for index in controls:
        utm = shapely.get_coordinates(raw.geometry.iloc[index])
        lon, lat = utm_to_wgs84.transform(utm[:, 0], utm[:, 1])
        ours = shapely.get_coordinates(by_index[index].geometry)
        assert ours.shape == utm.shape
        assert _metres_between(ours[:, 0], ours[:, 1], lon, lat).max() < 0.05


def test_frame_matches_pyproj_topocentric_enu_within_5_cm() -> None:
    """Within 2 km, east/north agree with a true tangent-plane ENU at the site's height to under 5 cm."""
    frame = KUNMING_ORIGIN
    enu = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=axisswap +order=2,1 +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        "+step +proj=cart +ellps=WGS84 "
        f"+step +proj=topocentric +ellps=WGS84 +lat_0={frame.lat} +lon_0={frame.lon} +h_0={frame.height}"
    )
    rng = np.random.default_rng(42)
    azimuth, distance = rng.uniform(0, 360, 100), rng.uniform(0, 2000, 100)
    lon, lat, _ = GEOD.fwd(np.full(100, frame.lon), np.full(100, frame.lat), azimuth, distance)
    east, north, _ = enu.transform(lat, lon, np.full(100, frame.height))
    ours = frame.points_to_local(np.column_stack([lon, lat]))
    assert np.hypot(ours[:, 0] - east, ours[:, 1] - north).max() < 0.05


def test_frame_distances_match_geodesics() -> None:
    """At sea level a point 1 km due north is at (0, 1000); distances from the origin are geodesics."""
    frame = LocalFrame(KUNMING_ORIGIN.lat, KUNMING_ORIGIN.lon, 0.0)
    lon, lat, _ = GEOD.fwd(frame.lon, frame.lat, 0.0, 1000.0)
    ((east, north),) = frame.points_to_local([[lon, lat]])
    assert abs(east) < 0.001 and abs(north - 1000.0) < 0.001
    lon, lat, _ = GEOD.fwd(frame.lon, frame.lat, 57.0, 1500.0)
    ((east, north),) = frame.points_to_local([[lon, lat]])
    assert abs(math.hypot(east, north) - 1500.0) < 0.05
    assert abs(math.degrees(math.atan2(east, north)) - 57.0) < 0.01


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179, 179),
    east=st.floats(-5000, 5000),
    north=st.floats(-5000, 5000),
    up=st.floats(-100, 500),
)
def test_round_trip_is_under_a_millimetre(
    lat: float, lon: float, east: float, north: float, up: float
) -> None:
    """Local → WGS84 → local returns the same point to < 1 mm, anywhere on Earth, heights included."""
    frame = LocalFrame(lat, lon, 12.5)
    back = frame.points_to_local(frame.points_to_wgs84([[east, north, up]]))
    assert np.abs(back - [[east, north, up]]).max() < 0.001


def test_geometries_round_trip_and_keep_their_shape(kunming: GisLayer) -> None:
    """Footprints go to metres and back unchanged; their local areas are real square metres."""
    frame = LocalFrame(KUNMING_ORIGIN.lat, KUNMING_ORIGIN.lon, 0.0)
    for feature in kunming.features[:20]:
        local = frame.to_local(feature.geometry)
        back = frame.to_wgs84(local)
        assert shapely.hausdorff_distance(frame.to_local(back), local) < 0.001
        geodesic_area = abs(GEOD.geometry_area_perimeter(feature.geometry)[0])
        assert local.area == pytest.approx(geodesic_area, rel=1e-5)
        assert KUNMING_ORIGIN.to_local(feature.geometry).area == pytest.approx(
            geodesic_area * KUNMING_ORIGIN.scale**2, rel=1e-5
        )


def test_proj_string_is_the_same_transform_for_the_database() -> None:
    """What PostGIS would apply from the PROJ string equals what the frame does."""
    frame = KUNMING_ORIGIN
    transformer = Transformer.from_crs("EPSG:4326", frame.proj_string(), always_xy=True)
    east, north = transformer.transform(102.7251, 25.0702)
    assert np.allclose(frame.points_to_local([[102.7251, 25.0702]]), [[east, north]], atol=1e-6)


@pytest.mark.parametrize(("lat", "lon"), [(102.7, 25.07), (math.nan, 0.0), (0.0, 200.0)])
def test_a_frame_refuses_an_origin_that_is_not_a_place(lat: float, lon: float) -> None:
    """A swapped or missing site origin fails where it is made, not as nonsense metres later."""
    with pytest.raises(GisError, match="not a WGS84 position"):
        LocalFrame(lat, lon)
