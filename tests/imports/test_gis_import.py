"""GIS layers into a site: footprints become buildings, points of interest devices, the rest the map."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from sqlalchemy import Engine, text

from gis import LocalFrame
from tests.imports.conftest import run_import
from tests.imports.helpers import active_counts, graph_rows, one
from tests.shared import shared_file
from twin.imports import ImportRunner, JobStatus

KUNMING = "gis/kunming_jinjiang_buildings.geojson"
PARCELS = "gis/swellendam_farm_parcels_33S"
ORIGIN = LocalFrame(lat=25.0729, lon=102.7195, height=1890.0)


def _site(engine: Engine, site_id: int) -> LocalFrame:
    with engine.connect() as conn:
        lat, lon, height = conn.execute(
            text("SELECT origin_lat, origin_lon, origin_height FROM sites WHERE id = :s"), {"s": site_id}
        ).one()
    return LocalFrame(lat, lon, height)


def test_kunming_footprints_become_buildings_on_their_outlines(runner: ImportRunner, engine: Engine) -> None:
    """140 footprints, 140 buildings: each map footprint (derived in PostGIS) within 5 cm of its source."""
    path = shared_file(KUNMING)
    job = run_import(runner, "gis", path, site="金江路", kind="footprints")
    assert job.status is JobStatus.DONE, job.error
    assert job.counts["buildings"] == 140 and job.counts["layer_rows"] == 140
    assert active_counts(engine, job.site_id or 0)["buildings"] == 140
    source = {str(f["properties"]["id"]): f for f in json.loads(path.read_text())["features"]}
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.value, ST_AsText(b.footprint), b.height FROM buildings b "
                "JOIN identifiers i ON i.place_id = b.id AND i.namespace = 'gis'"
            )
        ).all()
    assert len(rows) == 140
    for key, wkt, height in rows:
        feature = source[key.rsplit(":", 1)[1]]
        stored = shapely.from_wkt(wkt)
        assert shapely.hausdorff_distance(stored, shape(feature["geometry"])) < 5e-7  # about 5 cm
        assert height == feature["properties"]["height"]


def test_reimport_of_a_layer_changes_no_graph_node(runner: ImportRunner, engine: Engine) -> None:
    """The same footprints again: every building unchanged, the layer's rows replaced by equal ones."""
    first = run_import(runner, "gis", shared_file(KUNMING), site="金江路")
    before = graph_rows(engine)
    again = run_import(runner, "gis", shared_file(KUNMING), site=str(first.site_id))
    after = graph_rows(engine)
    assert {k: v for k, v in after.items() if k != "gis_features"} == {
        k: v for k, v in before.items() if k != "gis_features"
    }
    assert len(after["gis_features"]) == len(before["gis_features"]) == 140
    assert (again.summary["added"], again.summary["moved"], again.summary["retired"]) == (0, 0, 0)


def test_swellendam_parcels_are_stored_with_their_repairs_reported(runner: ImportRunner, engine: Engine) -> None:
    """2,008 UTM 33S parcels land in WGS84 in the site's layer; the 16 self-intersecting ones are repaired
    and reported (with the two that only touch themselves once in degrees)."""
    job = run_import(runner, "gis", shared_file(f"{PARCELS}.shp"), site="Swellendam", kind="parcels")
    assert job.status is JobStatus.DONE, job.error
    assert job.counts["layer_rows"] == 2008 and job.counts["repaired"] == 18
    repaired = [w for w in job.warnings if "repaired" in w]
    assert len(repaired) == 18 and sum("after reprojection" not in w for w in repaired) == 16
    assert one(engine, "SELECT count(*) FROM gis_features WHERE NOT ST_IsValid(geom)") == 0
    assert one(engine, "SELECT count(*) FROM gis_features WHERE kind = 'parcel' AND ST_SRID(geom) = 4326") == 2008
    west = one(engine, "SELECT ST_XMin(ST_Extent(geom)) FROM gis_features")
    east = one(engine, "SELECT ST_XMax(ST_Extent(geom)) FROM gis_features")
    assert 19.5 < west < east < 21.5
    assert active_counts(engine, job.site_id or 0)["buildings"] == 0


def test_a_zipped_shapefile_imports_like_its_parts(runner: ImportRunner, tmp_path: Path) -> None:
    """An upload is one file: the zipped Shapefile gives the same layer."""
    archive = tmp_path / "parcels.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            out.write(shared_file(f"{PARCELS}{suffix}"), f"farms/{Path(PARCELS).name}{suffix}")
    job = run_import(runner, "gis", archive, site="Swellendam", kind="parcels")
    assert job.status is JobStatus.DONE, job.error
    assert job.counts["layer_rows"] == 2008


def _points(path: Path, points: list[tuple[str, str, float, float]]) -> Path:
    features = []
    for ident, kind, east, north in points:
        lon, lat = ORIGIN.points_to_wgs84([[east, north]])[0]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"id": ident, "type": kind, "name": f"{kind} {ident}"},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


POIS = [
    ("h1", "hydrant", 30.0, 5.0),
    ("g1", "gate", -40.0, 12.0),
    ("c1", "charger", 15.0, -22.0),
    ("a1", "aed", 2.0, 3.0),
    ("p1", "assembly_point", 50.0, 50.0),
]


def _devices(engine: Engine, site_id: int) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.value, d.kind, ST_X(d.position_local), ST_Y(d.position_local), d.retired_at, d.place_id "
                "FROM devices d JOIN identifiers i ON i.device_id = d.id WHERE d.site_id = :s"
            ),
            {"s": site_id},
        ).all()
    return {r[0].rsplit(":", 1)[1]: {"kind": r[1], "xy": (r[2], r[3]), "retired": r[4], "place": r[5]} for r in rows}


def test_points_of_interest_become_devices_of_the_site(runner: ImportRunner, engine: Engine, tmp_path: Path) -> None:
    """Hydrant, gate, charger and AED are devices where they stand; the assembly point stays a map feature."""
    site = run_import(runner, "ifc", shared_file("ifc/AC20-FZK-Haus.ifc"), site="site").site_id or 0
    with engine.connect() as conn:
        conn.execute(
            text("UPDATE sites SET origin_lat = :a, origin_lon = :o, origin_height = :h WHERE id = :s"),
            {"a": ORIGIN.lat, "o": ORIGIN.lon, "h": ORIGIN.height, "s": site},
        )
        conn.commit()
    job = run_import(runner, "gis", _points(tmp_path / "pois.geojson", POIS), site=str(site), kind="pois")
    assert job.status is JobStatus.DONE, job.error
    devices = _devices(engine, site)
    assert {k: v["kind"] for k, v in devices.items()} == {
        "h1": "hydrant",
        "g1": "access_gate",
        "c1": "ev_charger",
        "a1": "aed",
    }
    for ident, _, east, north in POIS[:4]:
        x, y = devices[ident]["xy"]
        assert abs(x - east) < 1e-3 and abs(y - north) < 1e-3
        assert devices[ident]["place"] == site
    assert one(engine, "SELECT kind FROM gis_features WHERE source_id = 'p1'") == "assembly_point"

    moved = [("h1", "hydrant", 35.0, 5.0), *POIS[2:]]
    again = run_import(runner, "gis", _points(tmp_path / "pois.geojson", moved), site=str(site), kind="pois")
    assert again.summary["source_ids"] == {"moved": ["h1"], "retired": ["g1"]}
    devices = _devices(engine, site)
    assert devices["g1"]["retired"] is not None
    assert abs(devices["h1"]["xy"][0] - 35.0) < 1e-3


def test_bad_gis_files_fail_naming_the_file_and_change_nothing(
    runner: ImportRunner, engine: Engine, tmp_path: Path
) -> None:
    """Several layers and none chosen, a Shapefile without .prj, swapped axes: clear errors, no rows."""
    site = run_import(runner, "gis", shared_file(KUNMING), site="金江路").site_id
    before = graph_rows(engine)
    no_prj = tmp_path / "farms.shp"
    for suffix in (".shp", ".shx", ".dbf"):
        shutil.copy(shared_file(f"{PARCELS}{suffix}"), no_prj.with_suffix(suffix))
    swapped = tmp_path / "swapped.geojson"
    collection = json.loads(shared_file(KUNMING).read_text())
    for feature in collection["features"]:
        feature["geometry"]["coordinates"] = [[[y, x] for x, y in ring] for ring in feature["geometry"]["coordinates"]]
    swapped.write_text(json.dumps(collection))
    cases = [
        (shared_file("gis/swellendam_training_data.gpkg"), "4 layers"),
        (no_prj, "farms.prj"),
        (swapped, "swapped"),
    ]
    for path, fault in cases:
        job = run_import(runner, "gis", path, site=str(site))
        assert job.status is JobStatus.FAILED
        assert path.name in (job.error or "") and fault in (job.error or ""), job.error
        assert graph_rows(engine) == before


def test_footprints_link_to_bim_and_align_moves_the_building(
    runner: ImportRunner, engine: Engine, tmp_path: Path
) -> None:
    """A footprint 2.9 m and 4° off the office links to it, is reported, and `georef align` fits it."""
    from gis.realign import align_building
    from twin.store.engine import session_factory

    job = run_import(runner, "ifc", shared_file("ifc/Office_A_20110811.ifc"), site="office")
    site = job.site_id or 0
    frame = _site(engine, site)
    with engine.connect() as conn:
        building, wkt = conn.execute(text("SELECT id, ST_AsText(footprint_local) FROM buildings")).one()
        device = conn.execute(text("SELECT id, ST_X(position_local), ST_Y(position_local) FROM devices LIMIT 1")).one()
    outline = shapely.from_wkt(wkt)
    centre = outline.centroid
    moved = shapely.affinity.translate(shapely.affinity.rotate(outline, 4.0, origin=centre), 2.5, -1.5)
    path = tmp_path / "footprints.geojson"
    geometry = shapely.geometry.mapping(frame.to_wgs84(moved))
    feature = {"type": "Feature", "geometry": geometry, "properties": {"id": "fp1", "building": "office"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))

    linked = run_import(runner, "gis", path, site=str(site), kind="footprints")

    assert linked.status is JobStatus.DONE, linked.error
    assert (linked.counts["buildings_linked"], active_counts(engine, site)["buildings"]) == (1, 1)
    link = linked.summary["links"][0]
    assert link["building_id"] == building and link["method"] == "overlap"
    assert abs(link["rotation_deg"] - 4.0) < 0.2
    assert any("off its footprint" in w for w in linked.warnings)

    with session_factory(engine)() as session, session.begin():
        result = align_building(session, str(building))
    assert result["iou_after"] > 0.99 and result["moved"]["devices"] == 31
    with engine.connect() as conn:
        aligned = shapely.from_wkt(conn.execute(text("SELECT ST_AsText(footprint_local) FROM buildings")).scalar_one())
        x, y = conn.execute(
            text("SELECT ST_X(position_local), ST_Y(position_local) FROM devices WHERE id = :i"), {"i": device[0]}
        ).one()
    assert shapely.hausdorff_distance(aligned, moved) < 0.05
    expected = shapely.affinity.translate(
        shapely.affinity.rotate(Point(device[1], device[2]), 4.0, origin=centre), 2.5, -1.5
    )
    assert Point(x, y).distance(expected) < 0.05

    again = run_import(runner, "ifc", shared_file("ifc/Office_A_20110811.ifc"), site=str(site))
    assert (again.summary["moved"], again.summary["changed"]) == (0, 0)
