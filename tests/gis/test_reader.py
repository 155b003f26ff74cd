"""Reading the shared real files: counts, CRS, kinds, heights, repairs and attributes."""

from __future__ import annotations

import json

import pytest
from shapely import Point

from gis import FeatureKind, GisLayer, IssueCode, LayerKind, read_layer
from tests.gis.conftest import TOWN
from tests.shared import shared_file


def test_kunming_footprints_are_read_whole(kunming: GisLayer) -> None:
    """A clean WGS84 file comes in whole, with no issue invented."""
    assert len(kunming.features) == 140
    assert kunming.source_crs == "EPSG:4326" and kunming.source_srid == 4326
    assert {f.kind for f in kunming.features} == {FeatureKind.FOOTPRINT}
    assert kunming.issues == ()
    west, south, east, north = kunming.bounds or (0, 0, 0, 0)
    assert (round(west, 5), round(south, 5), round(east, 5), round(north, 5)) == (
        102.71288,
        25.0678,
        102.72605,
        25.07807,
    )


def test_kunming_keeps_ids_attributes_heights_and_levels(kunming: GisLayer) -> None:
    """Ids, Chinese text and heights survive, and attributes are strict JSON."""
    first = kunming.features[0]
    assert first.index == 0 and first.source_id == "322667424"
    assert first.attributes["community"] == "金色年华"
    assert first.height_m == 52.2 and first.levels == 15.8
    assert len({f.source_id for f in kunming.features}) == 140
    json.dumps([dict(f.attributes) for f in kunming.features], allow_nan=False)
    assert all(f.geometry.geom_type == "Polygon" and not f.geometry.has_z for f in kunming.features)


def test_utm_parcels_are_reprojected_and_16_repaired(parcels: GisLayer) -> None:
    """The 16 self-intersecting parcels are repaired and every output is valid."""
    assert len(parcels.features) == 2008
    assert parcels.source_crs == "EPSG:32733" and parcels.source_srid == 32733
    repaired = [i for i in parcels.issues_of(IssueCode.REPAIRED) if "after reprojection" not in i.message]
    assert len(repaired) == 16
    assert all("Self-intersection" in i.message and i.feature_index is not None for i in repaired)
    assert all(f.geometry.is_valid for f in parcels.features)
    assert all(f.geometry.geom_type in ("Polygon", "MultiPolygon") for f in parcels.features)
    assert {f.kind for f in parcels.features} == {FeatureKind.PARCEL}
    west, south, east, north = parcels.bounds or (0, 0, 0, 0)
    assert 20.0 < west < east < 20.9 and -34.3 < south < north < -33.7


def test_parcel_label_points_fall_in_their_reprojected_parcels(parcels: GisLayer) -> None:
    """The cadastre's own X/Y label points (degrees, computed by the surveyor) check our reprojection."""
    inside = sum(
        f.geometry.buffer(1e-6).contains(_point(f.attributes["X"], f.attributes["Y"]))
        for f in parcels.features
    )
    assert inside / len(parcels.features) > 0.95


def test_town_buildings_layer_gives_footprints_with_levels() -> None:
    """OSM building:levels gives levels, and height = levels × 3 m when absent."""
    layer = read_layer(shared_file(TOWN), layer="buildings")
    assert len(layer.features) == 4708
    assert layer.name == "buildings"
    assert {f.kind for f in layer.features} == {FeatureKind.FOOTPRINT}
    with_levels = [f for f in layer.features if f.levels is not None]
    derived = [f for f in with_levels if f.attributes.get("height") is None]
    assert derived and all(f.height_m == pytest.approx((f.levels or 0) * 3.0) for f in derived)
    assert layer.features[0].source_id.startswith(("r", "w"))


def test_town_roads_and_layer_kind_narrowing() -> None:
    """A layer kind narrows classification: restaurants read as zones are zones."""
    roads = read_layer(shared_file(TOWN), layer="roads")
    assert len(roads.features) == 717 and {f.kind for f in roads.features} == {FeatureKind.ROAD}
    as_zones = read_layer(shared_file(TOWN), layer="restaurants", kind=LayerKind.ZONES)
    assert len(as_zones.features) == 11 and {f.kind for f in as_zones.features} == {FeatureKind.ZONE}


def test_progress_reports_every_feature_once_at_the_end() -> None:
    """Progress climbs and ends at (total, total), so a bar can finish."""
    calls: list[tuple[int, int]] = []
    read_layer(shared_file(TOWN), layer="roads", progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (717, 717)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})


def _point(x: object, y: object) -> Point:
    assert isinstance(x, float) and isinstance(y, float)
    return Point(x, y)
