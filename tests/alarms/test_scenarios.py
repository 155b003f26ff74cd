"""The simulator's incidents on a loaded generated scene, through a real Mosquitto and the real ingest into PostGIS.

What tests/alarms/test_live.py shows with hand-written messages, shown here with the simulator's
own scenarios and the demo's rules as the server loads them (``start_rules`` with the scene).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.alarms.live import sync
from tests.alarms.scenes import alarm_rows, in_thread, live_scene
from tests.conftest import BrokerInfo
from tests.ingest.helpers import query, until
from tests.scenes.conftest import ROOT, load_into
from twin.alarms.files import rule_tables
from twin.app import create_app
from twin.scenes import Scene, read_bindings
from twin.settings import Settings

SMOKE = "火警 smoke detected"
CONFIRMED = "确认火警 confirmed fire"
PRESSURE = "消防管网压力低 fire main pressure low"
GATEWAY = "网关离线 gateway offline"
OFFLINE = "设备离线 device offline"


def of(rule: str, db_url: str) -> list[tuple[object, ...]]:
    return [row for row in alarm_rows(db_url) if row[0] == rule]


@sync
async def test_a_fire_confirms_one_alarm_per_floor_and_a_restart_neither_duplicates_nor_loses_any(
    incident_scene: Scene, db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    load_into(incident_scene, db_url, tmp_path)
    simulator = await in_thread(incident_scene, mqtt_broker, "fire", 18.0)
    async with live_scene(db_url, mqtt_broker, incident_scene, tmp_path, "fire-ingest"):
        await until(lambda: of(CONFIRMED, db_url), "two detectors on a floor confirmed no fire")
    before = {row[:2]: row for row in alarm_rows(db_url)}
    async with live_scene(db_url, mqtt_broker, incident_scene, tmp_path, "fire-ingest") as (_, rules, seen):
        await until(lambda: of(PRESSURE, db_url), "the fire main's pressure drop raised nothing")
        await until(lambda: rules.counts().pending == 0, "the restarted engine kept alarms unwritten")
        smoke, confirmed = of(SMOKE, db_url), of(CONFIRMED, db_url)
    report = await simulator
    assert any("smoke in" in what for what in report.events)
    assert len({row[1] for row in smoke}) == len(smoke) >= 2
    assert {(row[2], row[3]) for row in smoke} == {("raised", "critical")}
    floors = Counter(row[4] for row in smoke)
    burning = {f"place:{floor}" for floor, count in floors.items() if count >= 2}
    assert [row[1] for row in confirmed] == sorted(burning) and len(confirmed) == 1
    assert {(row[2], row[3]) for row in confirmed} == {("raised", "critical")}
    assert {row[3] for row in of(PRESSURE, db_url)} == {"major"}
    # Every alarm open before the restart is still there, still open, and was not raised again.
    after = {row[:2]: row for row in alarm_rows(db_url)}
    assert all(after[key][2] == "raised" for key in before if key[0] in (SMOKE, CONFIRMED))
    raised_again = [
        e for e in seen if e.data.get("cause") == "raised" and (e.data["rule"], e.data["subject"]) in before
    ]
    assert raised_again == []


async def settled(count: Callable[[], int], quiet_s: float = 2.0) -> int:
    """Wait until ``count()`` has not changed for ``quiet_s`` seconds; return it."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < quiet_s:
        now = await asyncio.to_thread(count)
        if now != last:
            last, since = now, time.monotonic()
        await asyncio.sleep(0.2)
    return last


@sync
async def test_a_gateway_going_offline_raises_one_root_with_the_devices_behind_it_grouped_under_it(
    incident_scene: Scene, db_url: str, mqtt_broker: BrokerInfo, tmp_path: Path
) -> None:
    assert incident_scene.bindings_file is not None
    load_into(incident_scene, db_url, tmp_path)
    behind: dict[str, set[str]] = {}
    for binding in read_bindings(incident_scene.bindings_file):
        if binding.gateway:
            behind.setdefault(binding.gateway, set()).add(binding.tag)
    tags = dict(query(db_url, "SELECT 'device:' || id, tag FROM devices"))
    simulator = await in_thread(incident_scene, mqtt_broker, "gateway_offline", 12.0)
    async with live_scene(db_url, mqtt_broker, incident_scene, tmp_path, "gw-ingest"):
        [root] = await until(lambda: of(GATEWAY, db_url), "the gateway's silence raised nothing")
        # The devices behind it that had spoken become unreachable with it; wait for all of them
        # (and stop looking before the simulator's clean stop says every other device is offline).
        await settled(lambda: len(of(OFFLINE, db_url)))
        rows = alarm_rows(db_url)
    report = await simulator
    assert any("goes offline" in what for what in report.events)
    assert root[5] is None and (root[2], root[3]) == ("raised", "major")
    assert [row[:2] for row in rows if row[0] == GATEWAY] == [root[:2]]
    offline = [row for row in rows if row[0] == OFFLINE]
    assert len(offline) >= 2 and {tags[row[1]] for row in offline} <= behind[tags[root[1]]]
    assert {(row[2], row[3], row[5], row[6]) for row in offline} == {("raised", "minor", GATEWAY, root[1])}


def test_the_server_reads_the_rules_of_its_scenes_from_their_files(
    incident_scene: Scene, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    load_into(incident_scene, db_url, tmp_path)
    # The same scene, its alarms.toml edited since the load: the server configured with it applies
    # the file as it is now, in place of the copy the load stored (no name is declared twice).
    edited = tmp_path / "edited" / incident_scene.root.name
    shutil.copytree(incident_scene.root, edited, ignore=shutil.ignore_patterns("generated"))
    with (edited / "alarms.toml").open("a", encoding="utf-8") as extra:
        extra.write('\n[[rule]]\nname = "水箱液位高 tank level high"\nkind = "level_sensor"\nquantity = "level"\n'
                    'condition = "above"\nthreshold = 4.5\nseverity = "warning"\n')  # fmt: skip
    profiles = [ROOT / "scenes" / "profiles"]
    declared = len(rule_tables(incident_scene.root))
    for scenes, expected in (([], declared), ([edited], declared + 1)):
        configured = settings.model_copy(update={"ingest": True, "ingest_profiles": profiles, "scenes": scenes})
        app = create_app(configured, db_url=db_url)
        with TestClient(app):
            names = set(app.state.rules.rules.by_name)
        assert len(names) == expected and "确认火警 confirmed fire" in names
        assert ("水箱液位高 tank level high" in names) == bool(scenes)
