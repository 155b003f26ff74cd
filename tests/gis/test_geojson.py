"""GeoJSON out: RFC 7946 rules on the real footprints, the bbox filter, and the local-frame variant."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from gis import GisError, GisLayer, LocalFrame, dumps, feature_collection, local_feature_collection
from gis.kinds import FeatureKind
from gis.model import GisFeature

FRAME = LocalFrame(lat=25.0729, lon=102.7195, height=1890.0)


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def _coordinates(node: Any) -> list[list[float]]:
    if isinstance(node[0], int | float):
        return [node]
    return [point for child in node for point in _coordinates(child)]


def test_collection_follows_rfc_7946(kunming: GisLayer) -> None:
    """Lon/lat order, counter-clockwise exteriors, 7 decimals, bbox members, strict JSON, no crs member."""
    collection = json.loads(dumps(feature_collection(kunming)))
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    assert len(collection["features"]) == 140
    for feature in collection["features"]:
        polygon = shape(feature["geometry"])
        assert polygon.exterior.is_ccw and all(not ring.is_ccw for ring in polygon.interiors)
        points = _coordinates(feature["geometry"]["coordinates"])
        assert all(102 < lon < 103 and 25 < lat < 26 for lon, lat in points)
        assert max(_decimals(v) for point in points for v in point) <= 7
        assert feature["bbox"] == pytest.approx(list(polygon.bounds))
    west, south, east, north = collection["bbox"]
    assert (west, south, east, north) == pytest.approx(kunming.bounds, abs=1e-7)
    first = collection["features"][0]
    assert first["id"] == "322667424" and first["properties"]["kind"] == "footprint"
    assert first["properties"]["attributes"]["community"] == "金色年华"
    assert "金色年华".encode() in dumps(feature_collection(kunming))


def test_clockwise_input_is_rewound() -> None:
    """A clockwise exterior (common in Shapefiles) comes out counter-clockwise."""
    clockwise = shapely.Polygon([(102.72, 25.07), (102.72, 25.071), (102.721, 25.071), (102.721, 25.07)])
    assert not clockwise.exterior.is_ccw
    feature = GisFeature(index=0, source_id="a", kind=FeatureKind.ZONE, geometry=clockwise)
    (out,) = feature_collection([feature])["features"]
    assert shape(out["geometry"]).exterior.is_ccw


def test_bbox_filter_keeps_exactly_the_features_that_meet_it(kunming: GisLayer) -> None:
    """The API's bbox parameter: a feature touching the window is in, one outside is out."""
    window = (102.7190, 25.0700, 102.7220, 25.0730)
    box = shapely.box(*window)
    expected = {f.source_id for f in kunming.features if f.geometry.intersects(box)}
    selected = feature_collection(kunming, bbox=window)
    assert 0 < len(expected) < 140
    assert {f["id"] for f in selected["features"]} == expected
    assert feature_collection(kunming, bbox=(0.0, 0.0, 1.0, 1.0))["features"] == []


@pytest.mark.parametrize(
    "bbox", [(102.73, 25.0, 102.71, 25.1), (0.0, 0.0, 1.0, float("nan")), (0, -95, 1, 1)]
)
def test_bad_bbox_is_refused(kunming: GisLayer, bbox: tuple[float, float, float, float]) -> None:
    """An inverted, non-finite or out-of-range box is an error naming the box, never an empty answer."""
    with pytest.raises(GisError, match="bbox"):
        feature_collection(kunming, bbox=bbox)


def test_local_collection_is_in_site_metres(kunming: GisLayer) -> None:
    """The 3D view's variant: millimetre metres around the origin, with the frame named, same features."""
    local = json.loads(dumps(local_feature_collection(kunming, FRAME)))
    assert local["frame"]["origin"] == [FRAME.lon, FRAME.lat, FRAME.height]
    assert local["frame"]["proj"] == FRAME.proj_string()
    assert len(local["features"]) == 140
    for out, feature in zip(local["features"], kunming.features, strict=True):
        expected = FRAME.to_local(feature.geometry)
        assert shapely.hausdorff_distance(shape(out["geometry"]), expected) < 0.001
        assert all(max(_decimals(v) for v in p) <= 3 for p in _coordinates(out["geometry"]["coordinates"]))
        assert out["properties"]["height_m"] == feature.height_m
    west, south, east, north = local["bbox"]
    assert -1500 < west < east < 1500 and -1500 < south < north < 1500
