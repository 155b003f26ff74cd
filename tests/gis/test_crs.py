"""CRS naming and SRIDs (including CGCS2000 and its zones) and the opt-in GCJ-02 conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Transformer

from gis import (
    CrsError,
    cgcs2000_gauss_kruger,
    crs_label,
    crs_to_srid,
    gcj02_to_wgs84,
    is_gcj02,
    wgs84_to_gcj02,
)
from tests.gis.conftest import PARCELS
from tests.shared import shared_file


@pytest.mark.parametrize("code", [4326, 3857, 32650, 4490, 4547, 4527, 4491, 4534])
def test_epsg_codes_map_to_their_srid(code: int) -> None:
    """WGS84, Web Mercator, UTM, CGCS2000 and its Gauss–Krüger zones are all storable by SRID."""
    assert crs_to_srid(f"EPSG:{code}") == code
    assert crs_to_srid(code) == code
    assert crs_label(code) == f"EPSG:{code}"


def test_esri_wkt_of_a_prj_maps_to_its_epsg_srid() -> None:
    """The parcels' .prj says WGS_1984_UTM_Zone_33S in ESRI words; PostGIS needs 32733."""
    assert crs_to_srid(shared_file(PARCELS).with_suffix(".prj").read_text()) == 32733


def test_unknown_and_gcj02_crs_are_refused_clearly() -> None:
    """pyproj's long error becomes one line naming what was given; GCJ-02 is explained, not parsed."""
    with pytest.raises(CrsError, match=r"unknown coordinate reference system 'EPSG:999999'"):
        crs_to_srid("EPSG:999999")
    with pytest.raises(CrsError, match="GCJ-02"):
        crs_to_srid("GCJ-02")
    assert is_gcj02("gcj02") and is_gcj02("火星坐标") and not is_gcj02("EPSG:4490")


@pytest.mark.parametrize(
    ("lon", "width", "prefix", "code"),
    [
        (102.72, 3, False, 4543),  # Kunming: 3° zone 34, CM 102°E
        (102.72, 3, True, 4522),
        (114.06, 3, False, 4547),  # Shenzhen: CM 114°E
        (117.2, 3, True, 4527),  # Tianjin: zone 39
        (102.72, 6, False, 4507),  # 6° zone 18, CM 105°E
        (102.72, 6, True, 4496),
    ],
)
def test_cgcs2000_zone_of_a_longitude(lon: float, width: int, prefix: bool, code: int) -> None:
    """The zone picked is the one whose central meridian the longitude is nearest (3°) or within (6°)."""
    assert cgcs2000_gauss_kruger(lon, zone_width=width, zone_prefix=prefix) == code


def test_cgcs2000_zone_centres_on_the_site() -> None:
    """A site is within 1.5° of its 3° zone's central meridian: easting within 1.5° of 500 km."""
    code = cgcs2000_gauss_kruger(102.72)
    easting, _ = Transformer.from_crs("EPSG:4490", f"EPSG:{code}", always_xy=True).transform(102.72, 25.07)
    assert abs(easting - 500_000) < 1.5 * 111_320 * math.cos(math.radians(25.07))
    with pytest.raises(CrsError, match="outside"):
        cgcs2000_gauss_kruger(20.4)


def test_gcj02_forward_matches_the_published_reference_value() -> None:
    """The reference pair of the widely used coordtransform implementations (Tiananmen)."""
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41024449916938, abs=1e-12)
    assert float(lat) == pytest.approx(39.91640428150164, abs=1e-12)


def test_gcj02_inverse_round_trips_under_a_millimetre_and_is_identity_abroad() -> None:
    """The iterative inverse is exact to the forward formula; outside China there is no offset."""
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(98, 125, 200), rng.uniform(20, 45, 200)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-8 and np.max(np.abs(back_lat - lat)) < 1e-8
    abroad = wgs84_to_gcj02(20.44, -34.02)
    assert (float(abroad[0]), float(abroad[1])) == (20.44, -34.02)
