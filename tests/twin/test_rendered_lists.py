"""Lists as PostgreSQL renders them: the same items as the Python rendering; radius lists nearest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from tests.twin.community import Community, build


@pytest.fixture
def community(client: TestClient, postgis_conninfo: str) -> Community:
    """The graph tests' community, with what the fixture leaves empty filled on some devices."""
    built = build(client)
    sensor = built.devices["sd-3-2-201"]
    patched = client.patch(f"/api/devices/{sensor}", json={"properties": {"型号": "JTY-GD", "loop": 2, "ok": True}})
    assert patched.status_code == 200, patched.text
    with psycopg.connect(postgis_conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE devices SET last_seen = '2026-12-02 08:30:01.25+08', health = 'online' WHERE id = %s", (sensor,)
        )
        conn.execute(
            "INSERT INTO identifiers (namespace, value, device_id) VALUES ('serial', 'SN-0042', %s)", (sensor,)
        )
        conn.execute(
            "INSERT INTO identifiers (namespace, value, place_id) VALUES ('ifc', '2O2Fr$t4X7Zf8NOew3FLOH', %s)",
            (built.floors[2],),
        )
        conn.execute("UPDATE places SET properties = '{\"面积\": 80.5}' WHERE id = %s", (built.units["3-2-201"],))
    return built


def _same(listed: dict[str, Any], single: dict[str, Any]) -> None:
    """Insist that a listed item and the single device agree field by field (numbers to the millimetre).

    The single device also carries what its panel shows (active alarms, open tickets); a list does not.
    """
    single = {k: v for k, v in single.items() if k not in ("alarms", "tickets")}
    assert listed.keys() == single.keys()
    for key, value in single.items():
        if key == "position" and value is not None:
            assert listed[key] == pytest.approx(value, abs=1e-3)
        elif key == "last_seen" and value is not None:
            assert datetime.fromisoformat(listed[key]) == datetime.fromisoformat(value)
        else:
            assert listed[key] == value, key


def test_listed_devices_are_rendered_as_the_single_device_is(client: TestClient, community: Community) -> None:
    page = client.get("/api/devices", params={"under": community.site, "limit": 1000}).json()
    assert {item["id"] for item in page["items"]} == set(community.devices.values())
    for item in page["items"]:
        _same(item, client.get(f"/api/devices/{item['id']}").json())
    sensor = next(item for item in page["items"] if item["id"] == community.devices["sd-3-2-201"])
    assert sensor["properties"] == {"型号": "JTY-GD", "loop": 2, "ok": True}
    assert sensor["identifiers"] == [
        {"namespace": "mqtt", "value": "sd-3-2-201"},
        {"namespace": "serial", "value": "SN-0042"},
    ]
    assert datetime.fromisoformat(sensor["last_seen"]) == datetime.fromisoformat("2026-12-02T00:30:01.250+00:00")


def test_a_radius_list_pages_nearest_first_and_finds_every_device_once(
    client: TestClient, community: Community
) -> None:
    hydrant = community.devices["hydrant-2"]
    centre = Point(community.positions[hydrant][:2])
    expected = {d for d, p in community.positions.items() if d != hydrant and Point(p[:2]).distance(centre) <= 40}
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"near_device": hydrant, "radius": 40, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/devices", params=params).json()
        assert len(page["items"]) <= 3
        seen.extend(page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert len(expected) > 6, "the test needs several pages"
    assert [item["id"] for item in seen] and {item["id"] for item in seen} == expected
    assert len(seen) == len(expected), "no device on two pages"
    distances = [item["distance"] for item in seen]
    assert distances == sorted(distances)
    for item in seen:
        assert item["distance"] == pytest.approx(Point(community.positions[item["id"]][:2]).distance(centre), abs=1e-3)


def test_a_cursor_of_one_kind_of_list_is_refused_by_another(client: TestClient, community: Community) -> None:
    by_id = client.get("/api/devices", params={"under": community.site, "limit": 2}).json()["next"]
    near = {"near_device": community.devices["hydrant-2"], "radius": 40, "limit": 2}
    by_distance = client.get("/api/devices", params=near).json()["next"]
    assert by_id and by_distance
    wrong = client.get("/api/devices", params={**near, "cursor": by_id})
    assert wrong.status_code == 422 and "cursor" in wrong.text
    wrong = client.get("/api/devices", params={"under": community.site, "cursor": by_distance})
    assert wrong.status_code == 422 and "cursor" in wrong.text


def test_listed_places_are_rendered_as_their_ancestors_are(client: TestClient, community: Community) -> None:
    """Subtrees, children and the address search render in SQL; ancestors still in Python: they agree."""
    unit = community.units["3-2-201"]
    above = client.get(f"/api/places/{unit}/ancestors").json()["items"]
    subtree = {item["id"]: item for item in client.get(f"/api/places/{community.site}/subtree").json()["items"]}
    children = {item["id"]: item for item in client.get(f"/api/places/{community.floors[2]}/children").json()["items"]}
    found = client.get("/api/units", params={"address": "3栋2单元201室"}).json()["items"]
    assert [item["id"] for item in found] == [unit]
    for item in above[1:]:
        assert subtree[item["id"]] == item
    assert found[0] == subtree[unit] == children[unit]
    assert found[0]["properties"] == {"面积": 80.5}
    assert [step["name"] for step in found[0]["path"]] == ["金色年华", "3栋", "2F", "201室"]
    floor = subtree[community.floors[2]]
    assert floor["identifiers"] == [{"namespace": "ifc", "value": "2O2Fr$t4X7Zf8NOew3FLOH"}]
    single = client.get(f"/api/floors/{community.floors[2]}").json()
    assert {key: single[key] for key in floor} == floor
    sites = client.get("/api/sites").json()["items"]
    assert sites == [above[0]]
