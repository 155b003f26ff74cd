"""What the 3D view loads: the site scene and a floor plan, in the site frame, within one's scope."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community, build
from twin.auth.roles import Role
from twin.store.base import utcnow
from twin.store.telemetry import create_partition_sql


@pytest.fixture
def community(client: TestClient) -> Community:
    return build(client)


def test_site_scene_has_buildings_floors_and_counts(client: TestClient, community: Community) -> None:
    scene = client.get(f"/api/sites/{community.site}/scene").json()
    assert scene["site"]["origin"]["lat"] == pytest.approx(25.0725)
    towers = {b["id"]: b for b in scene["buildings"]}
    assert set(towers) == {community.tower, community.other_tower}
    tower = towers[community.tower]
    assert tower["footprint"][0] == [0.0, 0.0] and [30.0, 20.0] in tower["footprint"]
    assert [f["level"] for f in tower["floors"]] == [-1, 1, 2, 3]
    assert scene["counters"][str(community.tower)]["devices"] == len(community.positions)
    assert set(scene["layers"]) >= {"roads", "green", "boundary"}
    assert scene["site"]["example_address"] in community.units, "the search box's example is a unit of the site"


def test_floor_plan_has_spaces_and_device_pins(client: TestClient, community: Community) -> None:
    plan = client.get(f"/api/floors/{community.floors[2]}/plan").json()
    assert plan["floor"]["level"] == 2
    units = {s["address"]: s for s in plan["spaces"] if s["kind"] == "unit"}
    assert set(units) == {"3-2-201", "3-2-202"}
    assert units["3-2-201"]["polygon"][:2] == [[0.0, 0.0], [10.0, 0.0]]
    pins = {d["id"]: d for d in plan["devices"]}
    smoke = pins[community.devices["sd-3-2-201"]]
    assert smoke["position"] == list(community.positions[community.devices["sd-3-2-201"]])
    assert smoke["space_id"] == community.units["3-2-201"] and smoke["health"] == "unknown"


def test_scene_shows_only_what_is_in_scope(client: TestClient, community: Community, make_user: MakeUser) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    headers = login(client, "insp")
    scene = client.get(f"/api/sites/{community.site}/scene", headers=headers).json()
    assert [b["id"] for b in scene["buildings"]] == [community.tower]
    assert client.get(f"/api/floors/{community.floors[1]}/plan", headers=headers).status_code == 200
    make_user("lift", grants=[(Role.VENDOR, community.site, ["elevator"])])
    plan = client.get(f"/api/floors/{community.floors[1]}/plan", headers=login(client, "lift")).json()
    assert plan["devices"] == []


def test_floor_energy_layer_sums_each_rooms_meter_rise(
    client: TestClient, community: Community, postgis_conninfo: str, make_user: MakeUser
) -> None:
    meters = {}
    for address in ("3-2-201", "3-2-202"):
        body = {"place_id": community.units[address], "kind": "electricity_meter", "name": f"电表 {address}"}
        response = client.post("/api/devices", json=body)
        assert response.status_code == 201, response.text
        meters[address] = response.json()["id"]
    now = utcnow()
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        for table in ("readings", "readings_hourly"):
            for at in (now, now - timedelta(days=10), now - timedelta(days=40)):
                conn.execute(create_partition_sql(table, at)[1])
        for days, value in ((40, 100.0), (10, 1000.0), (0, 1012.5)):
            conn.execute(
                "INSERT INTO readings (device_id, quantity, time, value) VALUES (%s, 'energy', %s, %s)",
                (meters["3-2-201"], now - timedelta(days=days), value),
            )
        conn.execute(
            "INSERT INTO readings_hourly (device_id, quantity, hour, count, sum, min, max) "
            "VALUES (%s, 'energy', %s, 2, 80, 30, 50)",
            (meters["3-2-202"], (now - timedelta(days=5)).replace(minute=0, second=0, microsecond=0)),
        )
    layers = client.get(f"/api/floors/{community.floors[2]}/layers").json()
    assert layers["spaces"] == {
        str(community.units["3-2-201"]): {"energy_kwh": 12.5},
        str(community.units["3-2-202"]): {"energy_kwh": 20.0},
    }
    assert client.get(f"/api/floors/{community.floors[2]}/layers?days=60").json()["spaces"][
        str(community.units["3-2-201"])
    ] == {"energy_kwh": 912.5}
    make_user("other", grants=[(Role.INSPECTOR, community.other_tower, None)])
    outside = client.get(f"/api/floors/{community.floors[2]}/layers", headers=login(client, "other"))
    assert outside.status_code == 404
