"""The loaded small scene has what the features need: feeds relations, outdoor walks, an example address."""

from __future__ import annotations

import json
from itertools import combinations

from sqlalchemy import select

from tests.scenes.conftest import SPEC, Loaded
from tests.scenes.test_generate import Small
from twin.alarms.conditions import households_of
from twin.api.view import site_scene
from twin.auth.roles import Role
from twin.auth.users import add_user, grant
from twin.catalogue import DeviceKind
from twin.events import EventBus
from twin.graph.queries import find_unit, households_fed_by
from twin.graph.walking import PATH_EDGE, route
from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, JobStatus, SiteRef, get_job
from twin.operations.inspection_schemas import RoundCreate
from twin.operations.rounds import plan_round
from twin.scenes.feeds import plan_feeds
from twin.store.engine import make_engine, session_factory
from twin.store.models import DeviceRow, FloorRow, PlaceRow, RelationRow, SpaceRow, WalkEdgeRow


def test_pumps_feed_floors_and_the_transformer_buildings_down_to_every_household(small: Small, loaded: Loaded) -> None:
    _, community, _ = small
    first = loaded.first
    towers = [b for b in community.buildings if b.use == "tower"]
    tower_floors = sum(len(b.storeys) for b in towers)
    garage_floors = sum(len(b.storeys) for b in community.buildings if b.use == "garage")
    expected = {
        DeviceKind.FIRE_PUMP: tower_floors + garage_floors,
        DeviceKind.WATER_PUMP: tower_floors,
        DeviceKind.TRANSFORMER: len(community.buildings),
    }
    by_kind = {kind: [d.tag for d in community.devices if d.kind is kind] for kind in expected}
    assert len(by_kind[DeviceKind.FIRE_PUMP]) == len(by_kind[DeviceKind.WATER_PUMP]) == 2
    total = sum(expected[kind] * len(tags) for kind, tags in by_kind.items())
    assert first.feeds == len(list(plan_feeds(community))) == total == first.totals["feeds_links"]
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session:
            units = sorted(
                session.scalars(
                    select(SpaceRow.id).where(SpaceRow.site_id == first.site_id, SpaceRow.space_kind == "unit")
                )
            )
            assert len(units) == SPEC.buildings * SPEC.floors * SPEC.units_per_floor
            for kind, tags in by_kind.items():
                for tag in tags:
                    device = session.scalar(select(DeviceRow).where(DeviceRow.tag == tag))
                    assert device is not None
                    targets = session.execute(
                        select(PlaceRow.kind, PlaceRow.name)
                        .join(RelationRow, RelationRow.target_place_id == PlaceRow.id)
                        .where(RelationRow.source_device_id == device.id, RelationRow.kind == "feeds")
                    ).all()
                    assert len(targets) == expected[kind], tag
                    assert {k for k, _ in targets} == ({"building"} if kind is DeviceKind.TRANSFORMER else {"floor"})
                    # The device sits in a plant room: the households are those of the places it feeds.
                    assert households_of(session, device.id, device.path) == units, tag
                    assert sorted(s.id for s in households_fed_by(session, device.id)) == units, tag
    finally:
        engine.dispose()


def test_a_route_from_building_1_to_building_2_walks_the_outdoor_paths(small: Small, loaded: Loaded) -> None:
    _, community, _ = small
    site_id = loaded.first.site_id
    roads = next(j for j in loaded.first.jobs if j["file"] == "roads.geojson")
    entrances = sum(len(b.entrances) for b in community.buildings) + 2  # and the garage's hall, the gatehouse
    pairs = entrances * (entrances - 1) // 2
    assert roads["counts"]["outdoor_walks"] == pairs
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session:
            edges = session.scalars(
                select(WalkEdgeRow).where(WalkEdgeRow.site_id == site_id, WalkEdgeRow.kind == PATH_EDGE)
            ).all()
            assert len(edges) == pairs
            joined = {frozenset((e.from_space_id, e.to_space_id)) for e in edges}
            ends = {s for pair in joined for s in pair}
            assert {frozenset(p) for p in combinations(ends, 2)} == joined, "every entrance to every other"
            a, b = (
                session.scalar(select(SpaceRow).where(SpaceRow.site_id == site_id, SpaceRow.address == address))
                for address in (f"1-1-{SPEC.floors}01", f"2-1-{SPEC.floors}02")
            )
            assert a is not None and b is not None
            walk = route(session, a.id, b.id)
            kinds = [step.edge_kind for step in walk.steps]
            assert kinds.count(PATH_EDGE) == 1 and "stair" in kinds or "elevator" in kinds
            outdoors = walk.steps[kinds.index(PATH_EDGE)]
            assert outdoors.via is not None and outdoors.via.startswith("室外")
            assert "1号楼1单元入口" in outdoors.via and "2号楼1单元入口" in outdoors.via
            assert outdoors.length > 45.0, "at least the gap between the towers"
            assert walk.steps[0].space_id == a.id and walk.steps[-1].space_id == b.id
    finally:
        engine.dispose()


def test_a_site_wide_round_from_building_1_visits_the_other_buildings(loaded: Loaded) -> None:
    site_id = loaded.first.site_id
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            session.info["actor"] = "test"
            add_user(session, "xunjian2", "a long enough password")
            grant(session, "xunjian2", Role.INSPECTOR, site_id)
            start = session.scalar(select(SpaceRow).where(SpaceRow.site_id == site_id, SpaceRow.address == "1-1-101"))
            assert start is not None
            asked = RoundCreate(place_id=site_id, inspector="xunjian2", budget_minutes=600, start_space_id=start.id)
            _, plan = plan_round(session, asked)
            spaces = [t.space_id for t in plan.stops]
            floors = select(SpaceRow.floor_id).where(SpaceRow.id.in_(spaces))
            buildings = set(session.scalars(select(FloorRow.building_id).where(FloorRow.id.in_(floors))))
            names = set(session.scalars(select(PlaceRow.name).where(PlaceRow.id.in_(buildings))))
            assert {"1号楼", "2号楼", "地下车库"} <= names
            unreachable = [s for s in plan.skipped if s.reason == "no walking route to it"]
            lost = set(session.scalars(select(SpaceRow.name).where(SpaceRow.id.in_([s.space_id for s in unreachable]))))
            assert all(s.space_id is None for s in unreachable), lost
            session.rollback()
    finally:
        engine.dispose()


def test_the_scene_offers_an_example_address_the_site_has(loaded: Loaded) -> None:
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session:
            scene = json.loads(site_scene(session, loaded.first.site_id).body)
            example = scene["site"]["example_address"]
            assert isinstance(example, str)
            [unit] = find_unit(session, example, loaded.first.site_id)
            assert unit.address == example and unit.space_kind == "unit"
    finally:
        engine.dispose()


def test_importing_the_model_again_keeps_the_outdoor_walks(small: Small, loaded: Loaded) -> None:
    from bim.store import IfcImporter

    scene, _, _ = small
    site_id = loaded.first.site_id
    engine = make_engine(loaded.db_url)
    held = select(WalkEdgeRow.from_space_id, WalkEdgeRow.to_space_id, WalkEdgeRow.length, WalkEdgeRow.via).where(
        WalkEdgeRow.site_id == site_id, WalkEdgeRow.kind == PATH_EDGE
    )
    runner = ImportRunner(engine, EventBus(), ImporterRegistry([IfcImporter()]), loaded.home / "assets")
    try:
        with session_factory(engine)() as session:
            before = set(session.execute(held).all())
        path = scene.ifc[0]
        request = ImportRequest(
            kind=ImportKind.IFC, path=path, file_name=path.name, site=SiteRef(id=site_id),
            options={"model": path.stem}, created_by="test",
        )  # fmt: skip
        job_id = runner.run(request)
        with session_factory(engine)() as session:
            assert get_job(session, job_id).status == JobStatus.DONE.value
            # The model's own edges are re-decided by the import; the map's are not its to drop.
            assert before and set(session.execute(held).all()) == before
    finally:
        runner.close()
        engine.dispose()
