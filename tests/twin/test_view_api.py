"""What the 3D view loads: the site scene and a floor plan, in the site frame, within one's scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community, build
from twin.auth.roles import Role


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
