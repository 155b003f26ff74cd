"""Bad files and bad features: each refused or reported with the file and the feature named."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from gis import GisImportError, IssueCode, read_layer
from tests.gis.conftest import KUNMING, PARCELS, TOWN
from tests.shared import shared_file

SITE = (25.0729, 102.7195)
"""A site origin in the middle of the Kunming footprints (lat, lon)."""


def _copy_shapefile(tmp_path: Path, *, without: str) -> Path:
    source = shared_file(PARCELS)
    for part in source.parent.glob(source.stem + ".*"):
        if part.suffix != without:
            shutil.copy(part, tmp_path / part.name)
            (tmp_path / part.name).chmod(0o644)
    return tmp_path / source.name


def _kunming_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(shared_file(KUNMING).read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, name: str, collection: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _map_coordinates(collection: dict[str, Any], change: Any) -> dict[str, Any]:
    def walk(node: Any) -> Any:
        if isinstance(node, list) and node and isinstance(node[0], int | float):
            return change(node)
        return [walk(child) for child in node]

    for feature in collection["features"]:
        feature["geometry"]["coordinates"] = walk(feature["geometry"]["coordinates"])
    return collection


def test_geopackage_with_several_layers_and_none_chosen_lists_them() -> None:
    """The person importing learns the layer names without opening QGIS."""
    with pytest.raises(GisImportError) as error:
        read_layer(shared_file(TOWN))
    message = str(error.value)
    assert "swellendam_training_data.gpkg" in message and "4 layers" in message
    assert all(name in message for name in ("buildings", "restaurants", "roads", "schools"))


def test_unknown_layer_name_lists_the_real_ones() -> None:
    """A typo in --layer is answered with the choices."""
    with pytest.raises(GisImportError, match=r"no layer 'building'.*buildings"):
        read_layer(shared_file(TOWN), layer="building")


def test_shapefile_without_prj_is_refused_unless_crs_is_declared(tmp_path: Path) -> None:
    """Without its .prj a Shapefile's numbers mean nothing; a declared CRS makes them mean something."""
    path = _copy_shapefile(tmp_path, without=".prj")
    with pytest.raises(GisImportError, match=r"swellendam_farm_parcels_33S\.shp: .*missing .*\.prj"):
        read_layer(path)
    layer = read_layer(path, crs="EPSG:32733")
    assert len(layer.features) == 2008 and layer.source_srid == 32733


def test_shapefile_without_dbf_is_refused(tmp_path: Path) -> None:
    """GDAL would read geometries with no attributes; the twin refuses rather than lose ids and kinds."""
    path = _copy_shapefile(tmp_path, without=".dbf")
    with pytest.raises(GisImportError, match=r"swellendam_farm_parcels_33S\.shp: .*missing .*\.dbf"):
        read_layer(path)


def test_unknown_crs_is_refused_naming_file_and_crs(tmp_path: Path) -> None:
    """An EPSG code pyproj does not know is an error, not a silent WGS84."""
    path = _copy_shapefile(tmp_path, without=".prj")
    with pytest.raises(
        GisImportError, match=r"swellendam_farm_parcels_33S\.shp: unknown coordinate .*EPSG:999999"
    ):
        read_layer(path, crs="EPSG:999999")


@pytest.mark.parametrize(
    ("name", "content"), [("notes.geojson", "hello, not JSON"), ("table.csv", "a,b\n1,2\n")]
)
def test_not_a_gis_file_is_refused_by_name(tmp_path: Path, name: str, content: str) -> None:
    """Text that GDAL cannot read, or reads as a table without geometry, is not a layer."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GisImportError, match=name.replace(".", r"\.")):
        read_layer(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A wrong path says which file is missing."""
    with pytest.raises(GisImportError, match=r"nowhere\.gpkg: no such file"):
        read_layer(tmp_path / "nowhere.gpkg")


def test_swapped_lat_lon_is_detected_from_impossible_latitudes(tmp_path: Path) -> None:
    """Kunming written lat,lon puts latitudes at 102°, which only make sense swapped."""
    swapped = _write(tmp_path, "swapped.geojson", _map_coordinates(_kunming_json(), lambda p: [p[1], p[0]]))
    with pytest.raises(GisImportError, match=r"swapped\.geojson: latitude and longitude look swapped"):
        read_layer(swapped)
    fixed = read_layer(swapped, swap_axes=True)
    assert len(fixed.features) == 140 and fixed.issues_of(IssueCode.SWAPPED_AXES)
    assert fixed.bounds == pytest.approx(read_layer(shared_file(KUNMING)).bounds)


def test_swapped_lat_lon_is_detected_from_the_site_origin(tmp_path: Path) -> None:
    """Swellendam swapped (-34, 20) is a valid place in the sea; only the site origin shows the swap."""
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"emergency": "fire_hydrant"},
                "geometry": {"type": "Point", "coordinates": [-34.0240 + i * 1e-4, 20.4400]},
            }
            for i in range(3)
        ],
    }
    path = _write(tmp_path, "hydrants.geojson", points)
    assert len(read_layer(path).features) == 3
    with pytest.raises(GisImportError, match=r"hydrants\.geojson: .*swapped.*km from the site"):
        read_layer(path, site_origin=(-34.0235, 20.4410))


def test_3d_coordinates_are_dropped_to_2d_with_a_warning(tmp_path: Path) -> None:
    """Z from a survey is not a building height; it is dropped and said so."""
    path = _write(tmp_path, "z.geojson", _map_coordinates(_kunming_json(), lambda p: [p[0], p[1], 1890.0]))
    layer = read_layer(path)
    assert len(layer.features) == 140
    assert all(not f.geometry.has_z for f in layer.features)
    (issue,) = layer.issues_of(IssueCode.DROPPED_Z)
    assert "140 feature(s)" in issue.message and issue.feature_index == 0


def test_null_empty_and_non_finite_geometries_are_rejected_by_index(tmp_path: Path) -> None:
    """The import stops naming each bad feature; asked to skip them, it keeps the rest and reports them."""
    geometries: list[Any] = [
        None,
        {"type": "Polygon", "coordinates": []},
        {"type": "Point", "coordinates": [math.nan, 25.0]},
        {"type": "Point", "coordinates": [102.7195, 25.0729]},
    ]
    path = _write(
        tmp_path,
        "holes.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"n": i}, "geometry": g} for i, g in enumerate(geometries)
            ],
        },
    )
    with pytest.raises(GisImportError) as error:
        read_layer(path)
    message = str(error.value)
    assert message.startswith("holes.geojson: 3 feature(s) rejected")
    for expected in ("feature 0: null", "feature 1: empty", "feature 2: non-finite"):
        assert expected in message
    layer = read_layer(path, skip_rejected=True)
    assert [f.index for f in layer.features] == [3]
    assert [i.feature_index for i in layer.issues_of(IssueCode.REJECTED)] == [0, 1, 2]


def test_mixed_geometry_types_are_reported(tmp_path: Path) -> None:
    """A footprint layer with a stray point is suspicious; the report names where the minority starts."""
    collection = _kunming_json()
    collection["features"] = collection["features"][:3] + [
        {
            "type": "Feature",
            "properties": {"type": "hydrant"},
            "geometry": {"type": "Point", "coordinates": [102.7195, 25.0729]},
        }
    ]
    layer = read_layer(_write(tmp_path, "mixed.geojson", collection))
    (issue,) = layer.issues_of(IssueCode.MIXED_TYPES)
    assert "3 polygon" in issue.message and "1 point" in issue.message and issue.feature_index == 3


def test_features_far_from_the_site_are_flagged_not_dropped() -> None:
    """A footprint 1 km off is kept (it may be right) but flagged with its distance."""
    layer = read_layer(shared_file(KUNMING), site_origin=SITE, far_km=0.6)
    far = layer.issues_of(IssueCode.FAR_FROM_SITE)
    assert len(layer.features) == 140
    assert 0 < len(far) < 140 and all("km from the site origin" in i.message for i in far)
    assert not read_layer(shared_file(KUNMING), site_origin=SITE, far_km=2.0).issues_of(
        IssueCode.FAR_FROM_SITE
    )


def test_gcj02_is_refused_unless_conversion_is_asked(tmp_path: Path) -> None:
    """GCJ-02 is off by hundreds of metres; converting it is a decision, never a default."""
    path = shared_file(KUNMING)
    with pytest.raises(GisImportError, match=r"kunming_jinjiang_buildings\.geojson: declared GCJ-02"):
        read_layer(path, crs="GCJ-02")
    converted = read_layer(path, crs="GCJ-02", convert_gcj02=True)
    original = read_layer(path)
    assert converted.issues_of(IssueCode.GCJ02_CONVERTED) and converted.source_srid is None
    shift = original.features[0].geometry.centroid.distance(converted.features[0].geometry.centroid)
    assert 0.001 < shift < 0.01


def test_unknown_layer_kind_is_refused() -> None:
    """A --kind typo is caught before reading."""
    with pytest.raises(GisImportError, match=r"unknown layer kind 'footprint'"):
        read_layer(shared_file(KUNMING), kind="footprint")
