"""Georeferencing: site coordinates, map conversions in any unit, double georeferences, re-centring."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bim import BimGeoref, BimModel, read_ifc
from bim.georef import recentring_offset
from tests.shared import shared_file

Reader = Callable[[str], BimModel]


def test_fzk_haus_site_is_near_karlsruhe(bim_model: Reader) -> None:
    """Site coordinates in degrees, minutes, seconds and millionths become decimal degrees."""
    georef = bim_model("AC20-FZK-Haus.ifc").georef
    assert georef.source == "IfcSite"
    assert georef.latitude == pytest.approx(49 + 6 / 60 + 1.566 / 3600, abs=1e-6)
    assert georef.longitude == pytest.approx(8 + 26 / 60 + 11.5404 / 3600, abs=1e-6)
    assert georef.height == pytest.approx(110.0)
    assert georef.crs is None and georef.other is None


def test_duplex_double_georeference_is_reported_with_both(bim_model: Reader) -> None:
    """Two disagreeing georeferences are a question for a human, not a silent choice."""
    georef = bim_model("Duplex_A_20110907_georeferenced.ifc").georef
    assert georef.source == "ePSet_MapConversion"
    assert georef.crs == "EPSG:9897"
    assert (georef.eastings, georef.northings) == pytest.approx((76670.0, 77179.0))
    assert georef.latitude == pytest.approx(49.63, abs=0.01)  # Luxembourg
    assert georef.other is not None and georef.other.source == "IfcSite"
    assert georef.other.latitude == pytest.approx(41.874, abs=0.01)  # Chicago
    assert any("georeferenced twice" in w for w in georef.warnings)


def test_ifc4x3_utm_map_conversion_agrees_with_its_site(bim_model: Reader) -> None:
    """A consistent IFC4X3 map conversion lands where its own site says."""
    georef = bim_model("geographic-referencing-utm_IFC4X3.ifc").georef
    assert georef.source == "IfcMapConversion"
    assert georef.crs == "EPSG:25832"
    assert (georef.eastings, georef.northings, georef.height) == pytest.approx((458657.30, 5438232.25, 113.7))
    assert georef.latitude == pytest.approx(49 + 5 / 60 + 43.9837 / 3600, abs=1e-4)
    assert georef.longitude == pytest.approx(8 + 26 / 60 + 1.2473 / 3600, abs=1e-4)
    assert georef.other is None
    assert georef.scale == pytest.approx(1.0)
    # The x axis (0.2706, 0.9627) turns the model's +Y about 74° west of grid north.
    assert georef.rotation_deg == pytest.approx(-74.3, abs=1.0)


def test_map_unit_in_millimetres_is_honoured(bim_model: Reader) -> None:
    """Map units in millimetres would put the model a thousand times too far away."""
    georef = bim_model("PCERT_Building-Architecture_IFC4.ifc").georef
    assert georef.crs == "EPSG:32760"
    assert georef.eastings == pytest.approx(729013.3488, abs=1e-3)
    assert georef.northings == pytest.approx(9063992.6847, abs=1e-3)
    assert georef.height == pytest.approx(1.3)
    assert georef.latitude is not None and -9 < georef.latitude < -8


def test_given_georeference_wins() -> None:
    """An operator's georeference overrides whatever the file says."""
    given = BimGeoref(source="cli", latitude=31.2, longitude=121.5, height=4.0, rotation_deg=12.0)
    georef = read_ifc(shared_file("ifc/AC20-FZK-Haus.ifc"), georef=given).georef
    assert (georef.source, georef.latitude, georef.longitude, georef.rotation_deg) == (
        "given",
        31.2,
        121.5,
        12.0,
    )


def test_far_coordinates_are_recentred_on_whole_metres() -> None:
    """Large coordinates jitter in float32; a whole-metre offset keeps positions readable."""
    far = [(729013.2 + i, 9063992.7, 1.0) for i in range(5)]
    assert recentring_offset(far) == (729015.0, 9063993.0, 0.0)
    assert recentring_offset([(10.0, -20.0, 3.0), (500.0, 1.0, 0.0)]) == (0.0, 0.0, 0.0)
    assert recentring_offset([]) == (0.0, 0.0, 0.0)
