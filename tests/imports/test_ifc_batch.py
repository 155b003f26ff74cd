"""New spaces and devices are written in batches (bim.batch) and end as the use cases leave them.

The use cases write one element at a time; the batch must keep what they guarantee: an audit
entry per creation on an unbroken chain, an ``ifc`` identifier per element, paths under the
container, and a device on a floor put in the smallest space its position is in.
"""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bim.batch import create_devices, create_spaces
from tests.imports.conftest import run_import
from tests.imports.helpers import ifc_counts
from tests.shared import shared_file
from twin.audit import snapshot, verify
from twin.catalogue import DeviceKind
from twin.errors import ValidationError
from twin.graph.devices import create_device
from twin.graph.places import create_building, create_floor, create_site, create_space
from twin.imports import ImportRunner, JobStatus
from twin.schemas import BuildingCreate, DeviceCreate, FloorCreate, SiteCreate, SpaceCreate
from twin.store.security import AuditRow


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


@pytest.mark.parametrize("name", ["Duplex_A_20110907_georeferenced.ifc", "Duplex_Electrical_20121207.ifc"])
def test_batched_creations_are_audited_named_and_placed(runner: ImportRunner, engine: Engine, name: str) -> None:
    """Each new space and device has its audit entry, identifier, path and the space it stands in; walks are stored."""
    path = shared_file(f"ifc/{name}")
    job = run_import(runner, "ifc", path, site=name)
    assert job.status is JobStatus.DONE, job.error
    expected = ifc_counts(path)
    with Session(engine) as session:
        checked, broken = verify(session)
    assert broken is None and checked > 0
    for kind in ("space", "device"):
        created = _scalar(engine, f"SELECT count(*) FROM audit_log WHERE action = '{kind}.create'")
        assert created == expected[f"{kind}s"], kind
    named = "SELECT count(*) FROM identifiers WHERE namespace = 'ifc' AND {} IN (SELECT id FROM {})"
    assert _scalar(engine, named.format("place_id", "spaces")) == expected["spaces"]
    assert _scalar(engine, named.format("device_id", "devices")) == expected["devices"]
    misplaced_spaces = (
        "SELECT count(*) FROM spaces s JOIN places p ON p.id = s.id JOIN places f ON f.id = s.floor_id "
        "WHERE p.path <> f.path || CAST(CAST(p.id AS text) AS ltree) OR p.parent_id <> f.id"
    )
    assert _scalar(engine, misplaced_spaces) == 0
    misplaced_devices = "SELECT count(*) FROM devices d JOIN places p ON p.id = d.place_id WHERE d.path <> p.path"
    assert _scalar(engine, misplaced_devices) == 0
    on_floor_but_in_a_space = (
        "SELECT count(*) FROM devices d WHERE d.space_id IS NULL AND d.position_local IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM spaces s JOIN places p ON p.id = s.id WHERE s.floor_id = d.floor_id "
        "AND p.retired_at IS NULL AND ST_Intersects(s.polygon_local, "
        "ST_MakePoint(ST_X(d.position_local), ST_Y(d.position_local))))"
    )
    assert _scalar(engine, on_floor_but_in_a_space) == 0
    assert (
        _scalar(engine, "SELECT count(*) FROM walk_edges WHERE from_space_id < to_space_id") == job.counts["walk_edges"]
    )


def _floor(session: Session, name: str) -> int:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 10], [0, 10], [0, 0]]]}
    site = create_site(session, SiteCreate(name=name, origin_lat=25.0, origin_lon=102.7))
    building = create_building(session, BuildingCreate(site_id=site.id, name="1栋", footprint_local=square))
    floor = create_floor(
        session, FloorCreate(building_id=building.id, name="1F", level=1, elevation=0.0, outline_local=square)
    )
    return floor.id


def _room(floor_id: int, name: str, x0: float, x1: float, **extra: object) -> SpaceCreate:
    ring = [[x0, 0], [x1, 0], [x1, 10], [x0, 10], [x0, 0]]
    return SpaceCreate(floor_id=floor_id, name=name, polygon_local={"type": "Polygon", "coordinates": [ring]}, **extra)


def _device(place_id: int, name: str, at: tuple[float, float, float]) -> DeviceCreate:
    return DeviceCreate(place_id=place_id, kind=DeviceKind.SMOKE_DETECTOR, name=name, position=at)


def test_the_batch_places_as_the_use_cases_place(engine: Engine) -> None:
    """The same spaces and devices, by batch and one by one: same rows but ids, same audit entries."""
    with Session(engine) as session:

        def inputs(floor: int) -> tuple[list[SpaceCreate], list[DeviceCreate]]:
            spaces = [_room(floor, "101", 0, 10), _room(floor, "102", 10, 19, address="1栋1单元102室")]
            at = [(15.0, 5.0, 2.5), (10.0, 5.0, 2.5), (19.5, 5.0, 2.5)]
            return spaces, [_device(floor, name, xyz) for name, xyz in zip(("in", "wall", "corner"), at, strict=True)]

        spaces, devices = inputs(_floor(session, "batch"))
        batch = [*create_spaces(session, spaces), *create_devices(session, devices)]
        spaces, devices = inputs(_floor(session, "one by one"))
        single = [*map(partial(create_space, session), spaces), *map(partial(create_device, session), devices)]
        ignored = {"id", "path", "place_id", "floor_id", "space_id", "parent_id", "site_id", "created_at", "updated_at"}
        for ours, theirs in zip(batch, single, strict=True):
            assert {k: v for k, v in snapshot(ours).items() if k not in ignored} == {
                k: v for k, v in snapshot(theirs).items() if k not in ignored
            }
        for rows in (batch, single):
            names = {r.id: r.name for r in rows[:2]}
            assert [names.get(d.place_id) for d in rows[2:]] == ["102", "102", None]  # the smallest; the floor
        garden = _device(spaces[0].floor_id, "in the garden", (30.0, 5.0, 0.0))
        for refused in (partial(create_devices, session, [garden]), partial(create_device, session, garden)):
            with pytest.raises(ValidationError, match="outside floor"):
                refused()
        session.rollback()


def test_the_batch_chains_the_audit_log_under_its_lock(engine: Engine) -> None:
    """Audit entries written by the batch between single ones keep the chain whole."""
    with Session(engine) as session:
        floor = _floor(session, "chain")
        create_spaces(session, [_room(floor, str(n), n, n + 1) for n in range(5)])
        create_space(session, _room(floor, "single", 6, 7))
        create_devices(session, [_device(floor, f"d{n}", (n + 0.5, 5.0, 2.0)) for n in range(3)])
        session.commit()
        checked, broken = verify(session)
        actions = session.scalars(select(AuditRow.action).order_by(AuditRow.id)).all()
    assert broken is None and checked == len(actions)
    assert actions[-9:] == ["space.create"] * 6 + ["device.create"] * 3


def test_the_chain_end_is_asked_again_after_a_savepoint_or_a_commit(engine: Engine) -> None:
    """A transaction chains to its own last entry; after a rolled-back savepoint or its commit, to the chain's end."""
    with Session(engine) as session:
        floor = _floor(session, "savepoint")
        nested = session.begin_nested()
        create_space(session, _room(floor, "undone", 0, 1))
        nested.rollback()
        create_space(session, _room(floor, "kept", 1, 2))
        session.commit()
        with Session(engine) as other:
            create_space(other, _room(floor, "meanwhile", 2, 3))
            other.commit()
        create_space(session, _room(floor, "next", 3, 4))
        session.commit()
        checked, broken = verify(session)
        actions = session.scalars(select(AuditRow.action).order_by(AuditRow.id)).all()
    assert broken is None and checked == len(actions)
    assert actions[-3:] == ["space.create"] * 3
