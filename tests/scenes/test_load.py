"""Loading a scene into a real PostGIS: the expected counts, bills, rules and plans; a second load changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from realtime.rules.load import load_rules
from tests.scenes.conftest import LAST, SPEC, Loaded
from tests.scenes.test_generate import Small
from twin.alarms.files import rule_tables
from twin.auth.roles import Role
from twin.auth.users import add_user, grant
from twin.operations.billing_status import unit_statuses_of
from twin.operations.inspection_due import due_targets
from twin.operations.inspection_schemas import RoundCreate
from twin.operations.rounds import plan_round
from twin.scenes import SceneError, load_scene, read_bills, read_bindings, read_residents
from twin.scenes.billing import due_date_of
from twin.store.alarms import AlarmRow, AlarmRuleRow
from twin.store.base import utcnow
from twin.store.engine import make_engine, session_factory
from twin.store.models import DeviceRow, IdentifierRow, PlaceRow, RelationRow, SpaceRow
from twin.store.operations import BillingImportRow, InspectionPlanRow
from twin.store.security import AuditRow, ResidentRow


def test_load_twice(small: Small, loaded: Loaded) -> None:
    scene, community, _ = small
    assert scene.bindings_file and scene.residents_file and scene.billing_file
    first = loaded.first
    units = SPEC.buildings * SPEC.floors * SPEC.units_per_floor
    floors = sum(len(b.storeys) for b in community.buildings)
    spaces = sum(len(s.spaces) for b in community.buildings for s in b.storeys)
    gis_devices = sum(1 for p in community.pois if p.kind is not None)
    bindings = read_bindings(scene.bindings_file)
    bills = read_bills(scene.billing_file)
    totals = first.totals
    assert totals["sites"] == 1 and totals["buildings"] == len(community.buildings)
    assert totals["floors"] == floors and totals["spaces"] == spaces
    assert totals["devices"] == len(community.devices) + gis_devices
    assert totals["mqtt_bindings"] == len(bindings) == first.bound
    assert totals["via_links"] == sum(1 for b in bindings if b.gateway) == first.via
    assert totals["residents"] == len(read_residents(scene.residents_file)) == first.residents_added
    assert first.residents_added > units // 2
    assert totals["charges"] == len(bills) == first.bills_read == first.bills_changed
    assert totals["inspection_plans"] == len(scene.inspection_plans) == first.plans_changed == 3
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session:
            audits = session.scalar(select(func.count()).select_from(AuditRow))
            imports = session.scalar(select(func.count()).select_from(BillingImportRow))
            identifiers = session.scalar(select(func.count()).select_from(IdentifierRow))
            rules = {n: spec for n, spec in session.execute(select(AlarmRuleRow.name, AlarmRuleRow.spec))}
            plans = session.execute(select(InspectionPlanRow.name, InspectionPlanRow.updated_at)).all()
            households = session.scalars(
                select(SpaceRow.address).where(SpaceRow.space_kind == "unit", SpaceRow.address.is_not(None))
            ).all()
        assert first.rules_changed == len(rules) == len(rule_tables(scene.root)) and imports == 1
        assert len(set(households)) == units, "the IFC import makes each household a unit with its address"
        assert rules["确认火警 confirmed fire"]["type"] == "place"

        second = loaded.load_again(scene)
        assert second.site_id == first.site_id and second.totals == totals
        assert (second.bound, second.via, second.feeds, second.residents_added) == (0, 0, 0, 0)
        assert (second.bills_read, second.bills_changed, second.rules_changed, second.plans_changed) == (
            len(bills), 0, 0, 0,
        )  # fmt: skip
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(IdentifierRow)) == identifiers
            links = totals["via_links"] + totals["feeds_links"]
            assert session.scalar(select(func.count()).select_from(RelationRow)) == links
            assert session.scalar(select(func.count()).select_from(ResidentRow)) == totals["residents"]
            assert session.scalar(select(func.count()).select_from(BillingImportRow)) == imports
            assert {n: spec for n, spec in session.execute(select(AlarmRuleRow.name, AlarmRuleRow.spec))} == rules
            assert session.execute(select(InspectionPlanRow.name, InspectionPlanRow.updated_at)).all() == plans
            # Nothing at all was changed, and so audited, by the second load.
            assert session.scalar(select(func.count()).select_from(AuditRow)) == audits
            # The rules a load stored are the rules a server applies without the scene's folder; with
            # the folder configured, the file's version is read instead of the stored copy.
            stored, _ = load_rules(session, [])
            with_folder, _ = load_rules(session, [scene.root])
            assert set(stored.by_name) == set(with_folder.by_name) == set(rules)
    finally:
        engine.dispose()


def test_the_loaded_bills_hold_paid_partly_paid_and_overdue_households(loaded: Loaded) -> None:
    site_id = loaded.first.site_id
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session:
            unit_ids = list(
                session.scalars(select(SpaceRow.id).where(SpaceRow.site_id == site_id, SpaceRow.space_kind == "unit"))
            )
            assert len(unit_ids) == SPEC.buildings * SPEC.floors * SPEC.units_per_floor
            before_due = due_date_of(LAST) - timedelta(days=10)
            standings = unit_statuses_of(session, unit_ids, today=before_due)
            statuses = Counter(s.status.value for s in standings.values())
            assert set(statuses) <= {"paid", "partly_paid", "overdue"} and statuses["paid"] > 0
            assert statuses["overdue"] > 0
            later = unit_statuses_of(session, unit_ids, today=date.fromisoformat(f"{LAST}-01") + timedelta(days=70))
            assert all(s.status.value in ("paid", "overdue") for s in later.values())
    finally:
        engine.dispose()


def test_the_scene_plans_make_stops_due_for_the_cli_and_the_round_planner(loaded: Loaded, tmp_path: Path) -> None:
    site_id, db_url = loaded.first.site_id, loaded.db_url
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": db_url,
        "TWIN_HOME": str(tmp_path),
        "TWIN_CONFIG": str(tmp_path / "no.toml"),
    }
    due = subprocess.run(
        [sys.executable, "-m", "twin.cli", "inspections", "due", "--under", str(site_id), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert due.returncode == 0, due.stderr
    targets = json.loads(due.stdout)
    assert {t["state"] for t in targets} == {"due"}
    assert {t["plan"] for t in targets} >= {
        "水泵房周检 weekly pump room round",
        "电梯季度保养 quarterly elevator service",
    }
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            session.info["actor"] = "test"
            add_user(session, "xunjian", "a long enough password")
            grant(session, "xunjian", Role.INSPECTOR, site_id)
            building = session.scalar(
                select(PlaceRow.id).where(PlaceRow.site_id == site_id, PlaceRow.kind == "building")
            )
            assert building is not None
            row, plan = plan_round(session, RoundCreate(place_id=building, inspector="xunjian", budget_minutes=90))
            assert plan.stops and row.planned_length > 0 and row.planned_minutes <= 90
    finally:
        engine.dispose()


def test_an_active_alarm_on_a_planned_device_is_a_reason_to_visit_it(loaded: Loaded) -> None:
    engine = make_engine(loaded.db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            site = session.get(PlaceRow, loaded.first.site_id)
            assert site is not None
            device = session.get(DeviceRow, due_targets(session, site.path, utcnow())[0].device_id)
            assert device is not None
            states = ("raised", "cleared")
            for state in states:
                session.add(
                    AlarmRow(rule=f"test {state}", subject=f"device:{device.id}", condition="above", site_id=site.id,
                             place_id=device.place_id, device_id=device.id, path=device.path,
                             severity="major", state=state, first_at=utcnow(), last_at=utcnow())
                )  # fmt: skip
            session.flush()
            raised = session.scalar(select(AlarmRow.id).where(AlarmRow.rule == "test raised"))
            [target] = [t for t in due_targets(session, site.path, utcnow()) if t.device_id == device.id]
            assert target.attention == [f"alarm:{raised}"]
            session.rollback()
    finally:
        engine.dispose()


def test_twin_scene_load_again_reports_nothing_changed(small: Small, loaded: Loaded) -> None:
    env = {**os.environ, "TWIN_DATABASE_URL": loaded.db_url, "TWIN_HOME": str(loaded.home)}
    env["TWIN_CONFIG"] = str(loaded.home / "none.toml")
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "scene", "load", str(small[0].root), "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["site_id"] == loaded.first.site_id and report["bills_read"] == loaded.first.bills_read
    changed = ("bound", "via", "feeds", "residents_added", "bills_changed", "rules_changed", "plans_changed")
    assert {key: report[key] for key in changed} == dict.fromkeys(changed, 0)
    assert all("skipped" in job for job in report["jobs"])


def test_edited_rules_are_updated_removed_ones_withdrawn_and_a_bad_one_refuses_the_load(
    small: Small, loaded: Loaded, tmp_path: Path
) -> None:
    edited = tmp_path / small[0].root.name  # the same scene, found again by its folder's name
    shutil.copytree(small[0].root, edited)
    toml = edited / "scene.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("threshold = 1.5", "threshold = 1.2"), encoding="utf-8")
    alarms = edited / "alarms.toml"
    text = alarms.read_text(encoding="utf-8")
    trend = text.index('[[rule]]\nname = "电梯振动趋势')
    alarms.write_text(text[:trend] + text[text.index("[[rule]]", trend + 1) :], encoding="utf-8")
    engine = make_engine(loaded.db_url)
    try:
        changed = loaded.load_again(load_scene(edited))
        assert (changed.rules_changed, changed.bills_changed, changed.plans_changed) == (2, 0, 0)
        with session_factory(engine)() as session:
            actions = session.scalars(
                select(AuditRow.action)
                .where(AuditRow.object_kind == "alarm_rule")
                .order_by(AuditRow.id.desc())
                .limit(2)
            ).all()
            assert sorted(actions) == ["alarm_rule.delete", "alarm_rule.update"]
            count = session.scalar(select(func.count()).select_from(AlarmRuleRow))
        with alarms.open("a", encoding="utf-8") as extra:
            extra.write('\n[[rule]]\nname = "消防泵"\ndevice = "FP-9"\ncondition = "offline"\nseverity = "major"\n')
        lines = alarms.read_text(encoding="utf-8").count("\n")
        with pytest.raises(SceneError, match=rf"alarms.toml:{lines - 2}: rule '消防泵': device: .*FP-9"):
            loaded.load_again(load_scene(edited))
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(AlarmRuleRow)) == count
        assert loaded.load_again(small[0]).rules_changed == 2  # back as the scene says
    finally:
        engine.dispose()
