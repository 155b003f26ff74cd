"""The spatial graph through the REST API, with spatial answers checked against shapely."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from tests.twin.community import Community, build, post, rect
from twin.alarms.severity import AlarmSeverity, AlarmState
from twin.catalogue import DeviceHealth, DeviceKind, SpaceKind
from twin.operations.catalogue import BillingStatus, Outcome, TicketCategory, TicketPriority, TicketStatus


@pytest.fixture
def community(client: TestClient) -> Community:
    return build(client)


def ids(page: dict[str, Any]) -> set[int]:
    return {item["id"] for item in page["items"]}


def test_every_node_carries_its_location_path(client: TestClient, community: Community) -> None:
    unit = client.get(f"/api/spaces/{community.units['3-2-201']}").json()
    assert [step["kind"] for step in unit["path"]] == ["site", "building", "floor", "space"]
    assert [step["name"] for step in unit["path"]] == ["金色年华", "3栋", "2F", "201室"]
    assert unit["address"] == "3-2-201"
    device = client.get(f"/api/devices/{community.devices['sd-3-2-201']}").json()
    assert device["space_id"] == community.units["3-2-201"], "a device placed on a floor lands in its space"
    assert device["path"][-1]["id"] == community.units["3-2-201"]
    assert device["identifiers"] == [{"namespace": "mqtt", "value": "sd-3-2-201"}]


def test_building_footprint_is_on_the_map_near_the_site_origin(client: TestClient, community: Community) -> None:
    building = client.get(f"/api/buildings/{community.tower}").json()
    footprint = shape(building["footprint"])
    assert footprint.geom_type == "Polygon"
    assert footprint.bounds[0] == pytest.approx(102.7194, abs=1e-6)
    assert footprint.bounds[1] == pytest.approx(25.0725, abs=1e-6)
    assert footprint.bounds[2] - footprint.bounds[0] == pytest.approx(30 / (111320 * 0.9058), rel=0.01)


def test_smoke_detectors_on_one_floor(client: TestClient, community: Community) -> None:
    page = client.get("/api/devices", params={"under": community.floors[2], "kind": "smoke_detector"}).json()
    assert ids(page) == {community.devices["sd-3-2-201"], community.devices["sd-3-2-202"]}
    whole = client.get("/api/devices", params={"under": community.tower, "kind": "smoke_detector"}).json()
    assert len(whole["items"]) == 6


def test_within_radius_matches_shapely(client: TestClient, community: Community) -> None:
    hydrant = community.devices["hydrant-2"]
    page = client.get("/api/devices", params={"near_device": hydrant, "radius": 8.0, "limit": 1000}).json()
    centre = Point(community.positions[hydrant][:2])
    expected = {d for d, p in community.positions.items() if d != hydrant and Point(p[:2]).distance(centre) <= 8.0}
    assert ids(page) == expected
    for item in page["items"]:
        assert item["distance"] == pytest.approx(Point(community.positions[item["id"]][:2]).distance(centre), abs=1e-3)


def test_nearest_n_matches_shapely(client: TestClient, community: Community) -> None:
    page = client.get("/api/devices", params={"under": community.site, "near": "0,0", "nearest": 3}).json()
    ranked = sorted(community.positions, key=lambda d: Point(community.positions[d][:2]).distance(Point(0, 0)))
    distances = [item["distance"] for item in page["items"]]
    assert distances == sorted(distances)
    expected = [Point(community.positions[d][:2]).distance(Point(0, 0)) for d in ranked[:3]]
    assert distances == pytest.approx(expected, abs=1e-3)


def test_within_polygon_and_bbox(client: TestClient, community: Community) -> None:
    area = rect(0, 0, 10, 8)
    import orjson

    page = client.get("/api/devices", params={"under": community.site, "polygon": orjson.dumps(area).decode()}).json()
    expected = {d for d, p in community.positions.items() if shape(area).intersects(Point(p[:2]))}
    assert ids(page) == expected
    box = client.get("/api/devices", params={"under": community.site, "bbox": "0,0,10,8"}).json()
    assert ids(box) == expected


def test_cursor_pagination_visits_every_device_once(client: TestClient, community: Community) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"under": community.site, "limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/devices", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(community.positions)
    assert len(seen) == len(set(seen))


def test_subtree_and_ancestors(client: TestClient, community: Community) -> None:
    floors = client.get(f"/api/places/{community.tower}/subtree", params={"kind": "floor"}).json()
    assert ids(floors) == set(community.floors.values())
    ancestors = client.get(f"/api/places/{community.units['3-2-302']}/ancestors").json()
    assert [p["kind"] for p in ancestors["items"]] == ["site", "building", "floor"]
    children = client.get(f"/api/places/{community.site}/children").json()
    assert ids(children) == {community.tower, community.other_tower}


@pytest.mark.parametrize("spelling", ["3-2-201", "3栋2单元201室", "3#2-201", "3号楼2单元201", "３栋２单元２０１"])
def test_a_unit_is_found_from_any_spelling_of_its_address(
    client: TestClient, community: Community, spelling: str
) -> None:
    page = client.get("/api/units", params={"address": spelling}).json()
    assert ids(page) == {community.units["3-2-201"]}


def test_space_containing_a_point(client: TestClient, community: Community) -> None:
    space = client.get(f"/api/floors/{community.floors[3]}/space-at", params={"x": 12, "y": 3}).json()
    assert space["id"] == community.units["3-2-302"]
    assert client.get(f"/api/floors/{community.floors[3]}/space-at", params={"x": 500, "y": 3}).json() is None


def test_households_a_pump_feeds(client: TestClient, community: Community) -> None:
    page = client.get(f"/api/devices/{community.devices['pump']}/households").json()
    assert ids(page) == {community.units["3-2-201"], community.units["3-2-202"]}


def test_walking_route_across_floors(client: TestClient, community: Community) -> None:
    route = client.get("/api/routes", params={"from": community.units["3-2-101"], "to": community.units["3-2-302"]})
    assert route.status_code == 200, route.text
    body = route.json()
    spaces = [step["space_id"] for step in body["steps"]]
    assert spaces[0] == community.units["3-2-101"] and spaces[-1] == community.units["3-2-302"]
    assert [step["edge_kind"] for step in body["steps"]].count("stair") == 2
    assert body["length"] == pytest.approx(sum(step["length"] for step in body["steps"]), abs=0.05)


def test_search_finds_units_devices_and_buildings(client: TestClient, community: Community) -> None:
    unit = client.get("/api/search", params={"q": "3-2-301"}).json()["items"]
    assert unit[0]["type"] == "unit" and unit[0]["id"] == community.units["3-2-301"]
    device = client.get("/api/search", params={"q": "P2"}).json()["items"]
    assert any(hit["type"] == "device" and hit["id"] == community.devices["pump"] for hit in device)
    building = client.get("/api/search", params={"q": "5栋"}).json()["items"]
    assert building[0]["type"] == "building"


def test_catalogue_has_both_languages_and_colours(client: TestClient) -> None:
    catalogue = client.get("/api/catalogue").json()
    smoke = catalogue["device_kinds"]["smoke_detector"]
    assert smoke["zh"] == "感烟探测器" and smoke["en"] == "Smoke detector" and smoke["colour"].startswith("#")
    # One endpoint serves every vocabulary the pages read, each from the enum that declares it.
    declared = {
        "device_kinds": DeviceKind, "space_kinds": SpaceKind, "device_health": DeviceHealth,
        "alarm_severity": AlarmSeverity, "alarm_state": AlarmState, "ticket_status": TicketStatus,
        "ticket_priority": TicketPriority, "ticket_category": TicketCategory, "billing_status": BillingStatus,
        "inspection_outcome": Outcome,
    }  # fmt: skip
    assert {name: set(catalogue[name]) for name in declared} == {name: set(e) for name, e in declared.items()}
    # Severities come in rising order: the view ranks a severity by its position.
    assert list(catalogue["alarm_severity"]) == ["warning", "minor", "major", "critical"]
    assert catalogue["alarm_severity"]["critical"]["zh"] == "紧急"


def test_an_empty_list_is_told_from_a_missing_place_or_device(client: TestClient, community: Community) -> None:
    assert client.get("/api/devices", params={"under": community.tower, "kind": "elevator"}).json()["items"] == []
    assert client.get("/api/devices", params={"under": 999_999}).status_code == 404
    assert client.get("/api/devices", params={"near_device": 999_999, "radius": 5}).status_code == 404
    unplaced = client.post(
        "/api/devices", json={"place_id": community.corridors[1], "kind": "camera", "name": "no position yet"}
    ).json()["id"]
    assert client.get("/api/devices", params={"near_device": unplaced, "radius": 5}).status_code == 422
    unit = community.units["3-2-101"]
    assert client.get(f"/api/places/{unit}/subtree").json()["items"] == []
    assert client.get(f"/api/places/{unit}/children").json()["items"] == []
    assert client.get(f"/api/places/{community.site}/ancestors").json()["items"] == []
    for tail in ("subtree", "children", "ancestors"):
        assert client.get(f"/api/places/999999/{tail}").status_code == 404, tail
    empty = post(client, "/api/spaces", {"floor_id": community.floors[1], "name": "储藏间", "kind": "room"})["id"]
    assert client.delete(f"/api/places/{empty}").status_code == 204
    assert client.get(f"/api/places/{empty}/ancestors").status_code == 404, "a deleted place is gone"
