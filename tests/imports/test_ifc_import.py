"""Every shared IFC model imports into the graph, with the counts ifcopenshell reports, where it belongs."""

from __future__ import annotations

import math

import ifcopenshell
import ifcopenshell.util.placement
import numpy as np
import pyproj
import pytest
from sqlalchemy import Engine, text

from tests.bim.conftest import IFC_FILES
from tests.imports.conftest import run_import
from tests.imports.helpers import active_counts, graph_rows, ifc_counts, one
from tests.shared import shared_file
from twin.graph.frame import local_frame_proj
from twin.imports import ImportRunner, JobStatus

GEOD = pyproj.Geod(ellps="WGS84")


@pytest.mark.parametrize("name", IFC_FILES)
def test_shared_model_imports_with_ifcopenshell_counts(runner: ImportRunner, engine: Engine, name: str) -> None:
    """Storeys, spaces and devices in the store are exactly those ifcopenshell finds in the file."""
    path = shared_file(f"ifc/{name}")
    job = run_import(runner, "ifc", path, site=name)
    assert job.status is JobStatus.DONE, job.error
    expected = ifc_counts(path)
    stored = active_counts(engine, job.site_id or 0)
    assert {k: stored[k] for k in expected} == expected
    assert stored["buildings"] == 1
    assert {k: job.counts[k] for k in expected} == expected
    assert job.summary["added"] == sum(expected.values()) + 1
    assert job.counts["glb_files"] >= 1 and job.counts["geometry_failed"] == 0


def test_reimport_of_the_same_file_changes_nothing(runner: ImportRunner, engine: Engine) -> None:
    """A second import of an unchanged model writes no row: same ids, same geometry, same times."""
    path = shared_file("ifc/Office_A_20110811.ifc")
    first = run_import(runner, "ifc", path, site="office")
    before = graph_rows(engine)
    again = run_import(runner, "ifc", path, site=str(first.site_id))
    assert again.status is JobStatus.DONE, again.error
    assert graph_rows(engine) == before
    assert {k: again.summary[k] for k in ("added", "moved", "changed", "retired")} == dict.fromkeys(
        ("added", "moved", "changed", "retired"), 0
    )
    assert again.summary["unchanged"] == first.summary["added"]


def test_device_positions_follow_the_map_conversion(runner: ImportRunner, engine: Engine) -> None:
    """A device's stored position, back on the map, is where IfcMapConversion and pyproj put it (< 5 cm)."""
    path = shared_file("ifc/PCERT_Building-Hvac_IFC4.ifc")
    job = run_import(runner, "ifc", path, site="pcert")
    assert job.status is JobStatus.DONE, job.error
    model = ifcopenshell.open(str(path))
    conversion = model.by_type("IfcMapConversion")[0]
    to_wgs84 = pyproj.Transformer.from_crs(conversion.TargetCRS.Name, 4326, always_xy=True)
    norm = math.hypot(conversion.XAxisAbscissa, conversion.XAxisOrdinate)
    cos, sin = conversion.XAxisAbscissa / norm, conversion.XAxisOrdinate / norm
    with engine.connect() as conn:
        lat, lon, height = conn.execute(
            text("SELECT origin_lat, origin_lon, origin_height FROM sites WHERE id = :s"), {"s": job.site_id}
        ).one()
        rows = conn.execute(
            text(
                "SELECT i.value, ST_X(d.position_local), ST_Y(d.position_local) FROM devices d "
                "JOIN identifiers i ON i.device_id = d.id WHERE i.namespace = 'ifc'"
            )
        ).all()
    stored = {global_id: (x, y) for global_id, x, y in rows}
    from_site = pyproj.Transformer.from_crs(local_frame_proj(lat, lon, height), 4326, always_xy=True)
    assert len(stored) == 2
    for element in model.by_type("IfcAirTerminal"):
        x, y = np.asarray(ifcopenshell.util.placement.get_local_placement(element.ObjectPlacement))[:2, 3]
        scale = conversion.Scale or 1.0
        east = (conversion.Eastings + scale * (cos * x - sin * y)) / 1000.0
        north = (conversion.Northings + scale * (sin * x + cos * y)) / 1000.0
        expected_lon, expected_lat = to_wgs84.transform(east, north)
        ours_lon, ours_lat = from_site.transform(*stored[element.GlobalId])
        assert GEOD.inv(expected_lon, expected_lat, ours_lon, ours_lat)[2] < 0.05


def test_building_footprint_stands_at_the_model_georeference(runner: ImportRunner, engine: Engine) -> None:
    """The FZK house's map footprint (derived in PostGIS) lies around the IfcSite reference point."""
    job = run_import(runner, "ifc", shared_file("ifc/AC20-FZK-Haus.ifc"), site="karlsruhe")
    lon, lat = (
        one(engine, "SELECT ST_X(ST_Centroid(footprint)) FROM buildings"),
        one(engine, "SELECT ST_Y(ST_Centroid(footprint)) FROM buildings"),
    )
    georef = job.summary["georef"]
    assert GEOD.inv(georef["longitude"], georef["latitude"], lon, lat)[2] < 15.0
    area = one(engine, "SELECT ST_Area(footprint_local) FROM buildings")
    assert 80.0 < area < 200.0


def test_the_walking_graph_and_storey_levels_come_along(runner: ImportRunner, engine: Engine) -> None:
    """Doors join spaces, stairs join storeys; the foundation storey of the Duplex is a basement."""
    job = run_import(runner, "ifc", shared_file("ifc/Duplex_A_20110907_georeferenced.ifc"), site="duplex")
    assert job.status is JobStatus.DONE, job.error
    with engine.connect() as conn:
        levels = dict(conn.execute(text("SELECT p.name, f.level FROM floors f JOIN places p ON p.id = f.id")).all())
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM walk_edges GROUP BY kind")).all())
    assert levels == {"T/FDN": -1, "Level 1": 1, "Level 2": 2, "Roof": 3}
    assert kinds.get("door", 0) > 0 and kinds.get("stair", 0) > 0
    assert any("georeferenced twice" in w for w in job.warnings)


def test_spaces_carry_the_zones_they_belong_to(runner: ImportRunner, engine: Engine) -> None:
    """IfcZone groupings (a flat, a fire compartment) are kept on their spaces."""
    run_import(runner, "ifc", shared_file("ifc/PCERT_Building-Architecture_IFC4.ifc"), site="pcert")
    with engine.connect() as conn:
        zones = conn.execute(text("SELECT p.properties -> 'ifc' -> 'zones' FROM spaces s JOIN places p USING (id)"))
        names = [[z["name"] for z in row[0]] for row in zones]
    assert names == [["house - living space"]] * 2
