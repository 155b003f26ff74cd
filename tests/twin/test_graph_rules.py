"""Bad input to the graph: 404 naming the id, 422 naming the field and the rule, nothing half-written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.twin.community import Community, build, post, rect
from twin.events import RegistryEvent


@pytest.fixture
def community(client: TestClient) -> Community:
    return build(client)


def error_of(response: object) -> str:
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    return detail if isinstance(detail, str) else " ".join(f"{d['loc'][-1]}: {d['msg']}" for d in detail)


@pytest.mark.parametrize(
    "url",
    ["/api/sites/999999", "/api/buildings/999999", "/api/floors/999999", "/api/spaces/999999", "/api/devices/999999"],
)
def test_unknown_ids_are_404_naming_the_id(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "999999" in response.json()["detail"]


def test_a_floor_is_not_a_building(client: TestClient, community: Community) -> None:
    response = client.get(f"/api/buildings/{community.floors[1]}")
    assert response.status_code == 404


def test_invalid_geometry_is_refused_naming_the_field(client: TestClient, community: Community) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]}
    response = client.post("/api/spaces", json={"floor_id": community.floors[1], "name": "x", "polygon_local": bowtie})
    assert response.status_code == 422
    assert "polygon_local" in error_of(response) and "Self-intersection" in error_of(response)


def test_a_device_outside_its_floor_is_refused(client: TestClient, community: Community) -> None:
    response = client.post(
        "/api/devices",
        json={"place_id": community.floors[1], "kind": "camera", "name": "cam", "position": [100.0, 100.0, 0.0]},
    )
    assert response.status_code == 422
    assert "position" in error_of(response) and "outside floor" in error_of(response)


def test_moving_a_place_under_itself_is_a_cycle(client: TestClient, community: Community) -> None:
    response = client.patch(f"/api/places/{community.tower}", json={"parent_id": community.floors[1]})
    assert response.status_code == 422
    assert "cycle" in error_of(response)


def test_a_floor_cannot_move_into_a_floor(client: TestClient, community: Community) -> None:
    response = client.patch(f"/api/places/{community.floors[1]}", json={"parent_id": community.floors[2]})
    assert response.status_code == 422
    assert "must be placed in a building" in error_of(response)


def test_moving_a_floor_to_another_building_moves_its_devices(client: TestClient, community: Community) -> None:
    response = client.patch(f"/api/places/{community.floors[3]}", json={"parent_id": community.other_tower})
    assert response.status_code == 200, response.text
    device = client.get(f"/api/devices/{community.devices['sd-3-2-301']}").json()
    assert device["path"][1]["id"] == community.other_tower
    under = client.get("/api/devices", params={"under": community.other_tower}).json()
    assert community.devices["sd-3-2-301"] in {item["id"] for item in under["items"]}


def test_a_floor_claimed_by_two_buildings_is_refused(client: TestClient, community: Community) -> None:
    ident = [{"namespace": "ifc", "value": "2O2Fr$t4X7Zf8NOew3FLOH"}]
    post(
        client,
        "/api/floors",
        {"building_id": community.tower, "name": "4F", "level": 4, "elevation": 9.0, "identifiers": ident},
    )
    response = client.post(
        "/api/floors",
        json={"building_id": community.other_tower, "name": "4F", "level": 4, "elevation": 9.0, "identifiers": ident},
    )
    assert response.status_code == 422
    assert "already names place" in error_of(response)
    floors = client.get(f"/api/places/{community.other_tower}/subtree", params={"kind": "floor"}).json()
    assert floors["items"] == [], "the refused floor was not half-written"


def test_two_floors_at_one_level_are_refused(client: TestClient, community: Community) -> None:
    response = client.post(
        "/api/floors", json={"building_id": community.tower, "name": "2F bis", "level": 2, "elevation": 3.0}
    )
    assert response.status_code == 422
    assert "level" in error_of(response)


def test_an_address_that_is_not_one_is_refused(client: TestClient, community: Community) -> None:
    response = client.post(
        "/api/spaces", json={"floor_id": community.floors[1], "name": "x", "kind": "unit", "address": "the blue door"}
    )
    assert response.status_code == 422
    assert "address" in error_of(response)
    assert client.get("/api/units", params={"address": "nowhere"}).status_code == 422
    assert client.get("/api/units", params={"address": "9-9-999"}).json()["items"] == []


def test_unknown_fields_and_bad_filters_are_refused(client: TestClient, community: Community) -> None:
    assert (
        client.post("/api/sites", json={"name": "x", "origin_lat": 1, "origin_lon": 2, "colour": "red"}).status_code
        == 422
    )
    assert client.post("/api/sites", json={"name": "x", "origin_lat": 91, "origin_lon": 2}).status_code == 422
    assert client.get("/api/devices", params={"bbox": "1,2,3"}).status_code == 422
    assert client.get("/api/devices", params={"near": "0,0", "radius": 5}).status_code == 422
    assert client.get("/api/devices", params={"cursor": "garbage!"}).status_code == 422
    assert client.get("/api/devices", params={"polygon": "{not json"}).status_code == 422
    assert client.get("/api/devices", params={"under": "1; DROP TABLE devices"}).status_code == 422
    # The device list's parameters are validated as one model; a refusal still names its parameter.
    refusals = (({"limit": 0}, "limit"), ({"near_device": 2**63}, "near_device"), ({"radius": "x"}, "radius"))
    for params, field in refusals:
        refused = client.get("/api/devices", params=params)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", field], refused.text


def test_a_place_with_content_is_not_deleted(client: TestClient, community: Community) -> None:
    response = client.delete(f"/api/places/{community.floors[1]}")
    assert response.status_code == 422
    assert client.get(f"/api/floors/{community.floors[1]}").status_code == 200


def test_events_are_published_after_commit_and_never_for_a_rollback(client: TestClient, community: Community) -> None:
    seen: list[RegistryEvent] = []
    unsubscribe = client.app.state.runtime.events.subscribe(seen.append)  # type: ignore[attr-defined]
    try:
        post(
            client,
            "/api/devices",
            {
                "place_id": community.units["3-2-101"],
                "kind": "water_meter",
                "name": "水表 101",
                "position": [5.0, 4.0, 1.0],
            },
        )
        refused = client.post(
            "/api/devices",
            json={"place_id": community.floors[1], "kind": "camera", "name": "cam", "position": [100.0, 100.0, 0.0]},
        )
        assert refused.status_code == 422
    finally:
        unsubscribe()
    assert [(e.action, e.kind) for e in seen] == [("create", "device")]
    assert seen[0].path[:4] == (
        f"site:{community.site}",
        f"building:{community.tower}",
        f"floor:{community.floors[1]}",
        f"space:{community.units['3-2-101']}",
    )
    assert seen[0].path[-1] == f"device:{seen[0].id}"


def test_via_must_name_a_gateway_and_never_cycle(client: TestClient, community: Community) -> None:
    floor = community.floors[1]
    gw1 = post(client, "/api/devices", {"place_id": floor, "kind": "gateway", "name": "GW1", "position": [1, 9, 0]})
    gw2 = post(client, "/api/devices", {"place_id": floor, "kind": "gateway", "name": "GW2", "position": [2, 9, 0]})
    sensor = community.devices["sd-3-2-101"]
    refused = client.post(
        "/api/relations", json={"kind": "via", "source_device_id": gw1["id"], "target_device_id": sensor}
    )
    assert refused.status_code == 422 and "not a gateway" in error_of(refused)
    post(client, "/api/relations", {"kind": "via", "source_device_id": gw1["id"], "target_device_id": gw2["id"]})
    cycle = client.post(
        "/api/relations", json={"kind": "via", "source_device_id": gw2["id"], "target_device_id": gw1["id"]}
    )
    assert cycle.status_code == 422 and "cycle" in error_of(cycle)
    _ = rect
