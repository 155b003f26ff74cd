"""Loading a scene into a real PostGIS: the expected counts, and a second load changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bim.store import IfcImporter
from gis.store import GisImporter
from tests.scenes.conftest import SPEC
from tests.scenes.test_generate import Small
from twin.auth.pii import PiiKey
from twin.imports import ImporterRegistry
from twin.scenes import read_bindings, read_residents
from twin.scenes.load import load
from twin.store.engine import make_engine, session_factory
from twin.store.models import IdentifierRow, RelationRow
from twin.store.security import AuditRow, ResidentRow


def test_load_twice(small: Small, db_url: str, tmp_path: Path) -> None:
    scene, community, _ = small
    assert scene.bindings_file and scene.residents_file
    engine = make_engine(db_url)
    registry = ImporterRegistry([IfcImporter(), GisImporter()])
    key = PiiKey.from_file(tmp_path / "pii.key")
    try:
        first = load(scene, engine, registry, tmp_path / "assets", key, "test")
        units = SPEC.buildings * SPEC.floors * SPEC.units_per_floor
        floors = sum(len(b.storeys) for b in community.buildings)
        spaces = sum(len(s.spaces) for b in community.buildings for s in b.storeys)
        gis_devices = sum(1 for p in community.pois if p.kind is not None)
        bindings = read_bindings(scene.bindings_file)
        totals = first.totals
        assert totals["sites"] == 1 and totals["buildings"] == len(community.buildings)
        assert totals["floors"] == floors and totals["spaces"] == spaces
        assert totals["devices"] == len(community.devices) + gis_devices
        assert totals["mqtt_bindings"] == len(bindings) == first.bound
        assert totals["via_links"] == sum(1 for b in bindings if b.gateway) == first.via
        assert totals["residents"] == len(read_residents(scene.residents_file)) == first.residents_added
        assert first.residents_added > units // 2
        graph = AuditRow.object_kind.in_(("site", "building", "floor", "space", "device", "resident"))
        with session_factory(engine)() as session:
            changes = session.scalar(select(func.count()).select_from(AuditRow).where(graph))
            identifiers = session.scalar(select(func.count()).select_from(IdentifierRow))
        second = load(scene, engine, registry, tmp_path / "assets", key, "test")
        assert second.site_id == first.site_id and second.totals == totals
        assert (second.bound, second.via, second.residents_added) == (0, 0, 0)
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(IdentifierRow)) == identifiers
            assert session.scalar(select(func.count()).select_from(RelationRow)) == totals["via_links"]
            assert session.scalar(select(func.count()).select_from(ResidentRow)) == totals["residents"]
            # Nothing of the graph or the residents was changed (and so audited) by the second load.
            assert session.scalar(select(func.count()).select_from(AuditRow).where(graph)) == changes
    finally:
        engine.dispose()
