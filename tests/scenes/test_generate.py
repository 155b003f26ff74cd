"""The generated community: valid IFC4 that reads back as planned, matching GIS, data that reproduces."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import ifcopenshell
import ifcopenshell.validate
import pytest
from shapely.geometry import Polygon

from bim import read_ifc
from gis import LocalFrame, read_layer
from gis.linking import iou
from tests.scenes.conftest import LAST, SPEC, generated
from twin.catalogue import DEVICE_KINDS, DeviceKind, SpaceKind
from twin.scenes import Community, GenerateSpec, Scene, plan_community, read_bills, read_bindings, read_residents
from twin.scenes.billing import paid_share, periods
from twin.scenes.data import households
from twin.scenes.files import plan_bindings
from twin.scenes.generate import GenerateReport

Small = tuple[Scene, Community, GenerateReport]


# ifcopenshell.validate reads its rule module without closing the file (ResourceWarning at GC).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ifc_passes_ifcopenshell_validate(small: Small) -> None:
    scene, _, _ = small
    model = ifcopenshell.open(str(scene.ifc[0]))
    logger = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(model, logger, express_rules=True)  # type: ignore[no-untyped-call]
    assert model.schema == "IFC4"
    assert [s["message"][:200] for s in logger.statements if s["level"] == "error"] == []


def test_read_ifc_finds_what_was_planned(small: Small) -> None:
    scene, community, _ = small
    model = read_ifc(scene.ifc[0])
    planned_storeys = [s for b in community.buildings for s in b.storeys]
    assert len(model.buildings) == len(community.buildings) == SPEC.buildings + 2
    assert len(model.storeys) == len(planned_storeys)
    assert len(model.spaces) == sum(len(s.spaces) for s in planned_storeys)
    assert len(model.devices) == len(community.devices)
    assert model.georef.source == "IfcMapConversion" and model.georef.other is None
    assert model.georef.latitude == pytest.approx(scene.site.latitude, abs=1e-7)
    assert model.georef.longitude == pytest.approx(scene.site.longitude, abs=1e-7)
    assert model.georef.rotation_deg == pytest.approx(0.0, abs=1e-4)
    units = [s for s in model.spaces if s.long_name.endswith("住户 unit")]
    assert len(units) == SPEC.buildings * SPEC.floors * SPEC.units_per_floor
    assert all(s.area == pytest.approx(100.0, rel=0.01) for s in units)
    kinds = Counter(w.kind for w in model.walks)
    assert kinds["elevator"] > 0 and kinds["stair"] == SPEC.buildings * (SPEC.floors - 1)
    assert kinds["door"] >= len(units)


def test_every_device_maps_to_its_planned_kind_and_space(small: Small) -> None:
    scene, community, _ = small
    model = read_ifc(scene.ifc[0])
    planned = {d.tag: d for d in community.devices}
    space_keys = {community.guid(s.key): s.key for b in community.buildings for st in b.storeys for s in st.spaces}
    wrong = [(d.tag, d.ifc_class, d.kind, planned[d.tag].kind) for d in model.devices if d.kind != planned[d.tag].kind]
    assert wrong == []
    assert {d.kind for d in model.devices} == set(DEVICE_KINDS) - {DeviceKind.ESCALATOR, DeviceKind.OTHER}
    misplaced = [d.tag for d in model.devices if space_keys.get(d.space_id or "") != planned[d.tag].space]
    assert misplaced == []
    assert all(not d.space_by_geometry for d in model.devices)


def test_gis_footprints_outline_the_towers(small: Small) -> None:
    scene, community, _ = small
    frame = LocalFrame(scene.site.latitude, scene.site.longitude, scene.site.height)
    layers = {g.name: read_layer(g.path, kind=g.kind, site_origin=frame) for g in scene.gis}
    assert all(not layer.issues for layer in layers.values())
    footprints = {f.attributes["bim_id"]: f for f in layers["footprints"].features}
    for building in community.buildings:
        if building.use == "garage":
            continue
        x0, y0, x1, y1 = building.rect
        outline = frame.to_wgs84(Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
        assert iou(footprints[community.guid(building.key)].geometry, outline) > 0.999
    pois = layers["pois"]
    assert {f.device_kind for f in pois.features if f.device_kind} == {DeviceKind.HYDRANT, DeviceKind.EV_CHARGER}
    assert layers["roads"].features and layers["greens"].features


def test_a_footway_reaches_every_entrance_and_the_gatehouse_from_the_roads(small: Small) -> None:
    scene, community, _ = small
    frame = LocalFrame(scene.site.latitude, scene.site.longitude, scene.site.height)
    [roads] = [read_layer(g.path, kind=g.kind, site_origin=frame) for g in scene.gis if g.name == "roads"]
    lines = {f.attributes["name"]: frame.to_local(f.geometry) for f in roads.features}
    footways = {f.attributes["name"] for f in roads.features if f.attributes["highway"] == "footway"}
    towers = [b for b in community.buildings if b.use == "tower"]
    rows = {t.rect[3] for t in towers}
    assert len(footways) == sum(len(t.entrances) for t in towers) + len(rows) + 1
    for tower in towers:
        north = Polygon.from_bounds(*tower.rect).exterior
        for entrance in tower.entrances:
            spur = lines[f"{tower.name}{entrance.number}单元入口 entrance"]
            assert spur.distance(north) < 0.01, "it starts at the tower's wall"
            assert min(line.distance(spur) for name, line in lines.items() if name.endswith("walk")) < 0.01
    [gatehouse] = [b for b in community.buildings if b.use == "gatehouse"]
    door = lines["门卫室入口 gatehouse door"]
    assert door.distance(Polygon.from_bounds(*gatehouse.rect)) < 0.01
    assert door.distance(lines["主入口 main entrance"]) < 0.01


def test_bindings_residents_and_bills(small: Small) -> None:
    scene, community, report = small
    assert scene.bindings_file and scene.residents_file and scene.billing_file
    bindings = read_bindings(scene.bindings_file)
    assert bindings == plan_bindings(community) and report.data.bindings == len(bindings)
    assert {b.profile for b in bindings} == {"zigbee2mqtt", "tasmota", "batch_gateway"}
    tags = {d.tag for d in community.devices} | {p.tag for p in community.pois}
    assert all(b.tag in tags and (b.gateway is None or b.gateway in tags) for b in bindings)
    residents = read_residents(scene.residents_file)
    addresses = {s.address for _, _, s in community.units()}
    assert residents and {r.unit for r in residents} <= addresses
    assert all(r.phone is None or (len(r.phone) == 11 and r.phone.startswith("1")) for r in residents)
    bills = read_bills(scene.billing_file)
    months = periods(LAST, 12)
    assert sorted({b.period for b in bills}) == months


def test_collection_climbs_from_below_70_to_about_95_percent() -> None:
    from twin.scenes.billing import billing_history

    community = plan_community(small_site(), GenerateSpec(6, 18, 4, seed=11))
    bills = billing_history(households(community), LAST, 12, seed=11)
    shares = [paid_share(bills, p) for p in periods(LAST, 12)]
    assert shares[0] < 0.70 and 0.92 <= shares[-1] <= 0.98
    assert all(b >= a - 0.02 for a, b in zip(shares, shares[1:], strict=False))
    assert {b.status for b in bills} == {"paid", "partial", "unpaid"}


def test_households_are_paid_partly_paid_or_overdue_the_month_after() -> None:
    from twin.operations.billing_status import Standing
    from twin.scenes.billing import billing_history, due_date_of

    community = plan_community(small_site(), GenerateSpec(6, 18, 4, seed=11))
    bills = billing_history(households(community), LAST, 12, seed=11)
    today = due_date_of(LAST) - timedelta(days=10)
    standings: dict[str, Standing] = {}
    for b in bills:
        assert b.due_date == due_date_of(b.period)
        standings.setdefault(b.unit, Standing()).add(b.amount_due, b.amount_paid, b.due_date, today)
    share = Counter(s.status.value for s in standings.values())
    assert set(share) == {"paid", "partly_paid", "overdue"}
    assert share["paid"] > len(standings) / 2 and share["partly_paid"] >= 5 and share["overdue"] >= 20


def small_site():  # type: ignore[no-untyped-def]
    from twin.scenes.generate import DEFAULT_SITE

    return DEFAULT_SITE


def test_seeds_reproduce(small: Small, tmp_path: Path) -> None:
    from tests.scenes.conftest import WRITERS
    from twin.scenes.generate import generate_scene

    scene, community, _ = small
    again = tmp_path / "again"
    again.mkdir()
    (again / "scene.toml").write_text((scene.root / "scene.toml").read_text().replace("../", "../../"))
    generate_scene(again, SPEC, WRITERS, last_period=LAST, site=scene.site)
    for name in ("bindings.csv", "residents.csv", "billing.csv", "gis/footprints.geojson", "gis/pois.geojson"):
        assert (again / "generated" / name).read_bytes() == generated(scene, name).read_bytes(), name
    ids = {e.GlobalId for e in ifcopenshell.open(str(again / "generated" / "community.ifc")).by_type("IfcProduct")}
    assert ids == {e.GlobalId for e in ifcopenshell.open(str(scene.ifc[0])).by_type("IfcProduct")}
    other = plan_community(scene.site, GenerateSpec(SPEC.buildings, SPEC.floors, SPEC.units_per_floor, seed=8))
    assert other.guid("T1") != community.guid("T1")


def test_units_are_households_with_addresses(small: Small) -> None:
    _, community, _ = small
    units = list(community.units())
    assert all(s.kind is SpaceKind.UNIT and s.address for _, _, s in units)
    assert units[0][2].address == "1-1-101" and units[-1][2].address == f"2-1-{SPEC.floors}02"


def test_closing_the_next_month_settles_the_short_payers_of_the_last() -> None:
    from twin.scenes.billing import billing_history, close_next_month, next_period

    community = plan_community(small_site(), GenerateSpec(2, 6, 4, seed=3))
    homes = households(community)
    bills = billing_history(homes, LAST, 12, seed=3)
    period, export = close_next_month(bills, homes, seed=3)
    assert period == next_period(LAST) and len(export) == len(bills) + sum(1 for b in bills if b.period == LAST)
    before = {b.reference: b for b in bills}
    after = {b.reference: b for b in export}
    settled = [ref for ref, b in before.items() if b.period == LAST and after[ref] != b]
    assert settled and all(after[ref].status == "paid" and before[ref].status == "partial" for ref in settled)
    assert all(after[ref] == b for ref, b in before.items() if b.period != LAST)
