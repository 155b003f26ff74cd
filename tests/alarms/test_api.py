"""The alarms API: lists in scope, counts, the lifecycle by hand with audit, tickets, rules refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.alarms.test_store import occurrence, run
from tests.api_fixtures import MakeUser, login
from tests.ingest.helpers import Graph, query
from twin.alarms import AlarmSeverity, raise_alarm
from twin.auth.roles import Role
from twin.graph.places import create_building
from twin.schemas import BuildingCreate


def raised(engine: Engine, graph: Graph, name: str = "SD-1", **kw: object) -> int:
    return int(run(engine, lambda s: raise_alarm(s, occurrence(engine, graph, name, **kw)).alarm.id))  # type: ignore[arg-type]


def test_alarms_list_in_scope_with_filters_and_counts(
    client: TestClient, anon_client: TestClient, engine: Engine, graph: Graph, make_user: MakeUser
) -> None:
    fire = raised(engine, graph)
    raised(
        engine, graph, "PS-1", rule="pressure", subject=f"device:{graph.devices['PS-1']}", severity=AlarmSeverity.MAJOR
    )
    assert anon_client.get("/api/alarms").status_code == 401
    listed = client.get("/api/alarms", params={"under": graph.floor}).json()
    assert [(a["rule"], a["severity"]) for a in listed] == [("smoke", "critical"), ("pressure", "major")]
    assert listed[0]["households"] == [graph.unit] and listed[0]["path"].endswith(str(graph.unit))
    only = client.get("/api/alarms", params={"severity": "major"}).json()
    assert [a["rule"] for a in only] == ["pressure"]
    counts = {(c["level"], c["place_id"]): c["counts"] for c in client.get("/api/alarms/counts").json()}
    assert counts[("floor", graph.floor)] == {"critical": 1, "major": 1}
    assert counts[("building", graph.building)] == {"critical": 1, "major": 1}
    other_building = run(
        engine, lambda s: create_building(s, BuildingCreate(site_id=graph.site, name="5栋", code="5")).id
    )
    make_user("elsewhere", grants=[(Role.OPERATOR, other_building, None)])
    with TestClient(client.app) as other:
        other.headers.update(login(other, "elsewhere"))
        assert other.get("/api/alarms").json() == []
        assert other.get(f"/api/alarms/{fire}").status_code == 404


def test_the_lifecycle_by_hand_is_audited_and_ordered(
    client: TestClient, engine: Engine, graph: Graph, db_url: str
) -> None:
    alarm = raised(engine, graph)
    assert client.post(f"/api/alarms/{alarm}/close", json={}).status_code == 422  # not cleared yet
    acked = client.post(f"/api/alarms/{alarm}/ack", json={"note": "on my way"}).json()
    assert (acked["state"], acked["acknowledged_by"], acked["ack_note"]) == ("acknowledged", "root", "on my way")
    assert client.post(f"/api/alarms/{alarm}/assign", json={"assignee": "root"}).status_code == 200
    assert client.post(f"/api/alarms/{alarm}/clear", json={"note": "burnt toast"}).json()["cleared_by"] == "root"
    assert client.post(f"/api/alarms/{alarm}/close", json={}).json()["state"] == "closed"
    actions = [r[0] for r in query(db_url, "SELECT action FROM audit_log WHERE object_kind = 'alarm' ORDER BY id")]
    assert actions == ["alarm.ack", "alarm.assign", "alarm.clear", "alarm.close"]
    history = client.get("/api/alarms", params={"device_id": graph.devices["SD-1"], "state": "all"}).json()
    assert [a["state"] for a in history] == ["closed"]
    assert raised(engine, graph) != alarm  # once closed, the next occurrence is a new alarm


def test_an_alarm_opens_a_ticket_and_both_name_each_other(client: TestClient, engine: Engine, graph: Graph) -> None:
    alarm = raised(engine, graph)
    made = client.post(f"/api/alarms/{alarm}/ticket", json={"category": "fire_safety", "priority": "urgent"})
    assert made.status_code == 201, made.text
    ticket_id = made.json()["ticket_id"]
    assert client.get(f"/api/alarms/{alarm}").json()["ticket_id"] == ticket_id
    assert client.get(f"/api/tickets/{ticket_id}").json()["alarm_id"] == alarm
    assert client.post(f"/api/alarms/{alarm}/ticket", json={"category": "fire_safety"}).status_code == 422


def test_rules_through_the_api_are_checked_before_they_are_stored(client: TestClient, graph: Graph) -> None:
    good = {"name": "low pressure", "kind": "pressure_sensor", "quantity": "pressure", "condition": "below",
            "threshold": 250, "unit": "kPa", "clear_at": 300, "for_s": 30, "severity": "major"}  # fmt: skip
    assert client.post("/api/alarms/rules", json={"spec": good}).status_code == 201
    wrong_unit = {**good, "name": "bad", "unit": "°C"}
    refused = client.post("/api/alarms/rules", json={"spec": wrong_unit})
    assert refused.status_code == 422 and "'bad'" in refused.text and "°C" in refused.text
    too_big = {**good, "name": "kPa as MPa", "unit": "MPa"}
    assert "wrong unit" in client.post("/api/alarms/rules", json={"spec": too_big}).text
    unknown = {**good, "name": "q", "quantity": "pressur"}
    assert "unknown quantity 'pressur'" in client.post("/api/alarms/rules", json={"spec": unknown}).text
    selfish = {"name": "loop", "members": ["loop"], "severity": "critical"}
    assert "itself" in client.post("/api/alarms/rules", json={"type": "place", "spec": selfish}).text
    assert [r["name"] for r in client.get("/api/alarms/rules").json()] == ["low pressure"]


def test_device_and_space_answers_carry_their_active_alarms_and_open_tickets(
    client: TestClient, engine: Engine, graph: Graph
) -> None:
    """What the panels show comes with the object: a route the view reads but the server lacks is a bug."""
    device = graph.devices["SD-1"]
    assert client.get(f"/api/devices/{device}").json()["alarms"] == []
    alarm = raised(engine, graph)
    client.post(f"/api/alarms/{alarm}/assign", json={"assignee": "root"})
    ticket = client.post(f"/api/alarms/{alarm}/ticket", json={"category": "fire_safety"}).json()["ticket_id"]
    detail = client.get(f"/api/devices/{device}").json()
    assert [(a["id"], a["severity"], a["assignee"]) for a in detail["alarms"]] == [(alarm, "critical", "root")]
    assert [(t["id"], t["status"], t["alarm_id"]) for t in detail["tickets"]] == [(ticket, "open", alarm)]
    space = client.get(f"/api/spaces/{graph.unit}").json()
    assert [a["id"] for a in space["alarms"]] == [alarm] and [t["id"] for t in space["tickets"]] == [ticket]
    client.post(f"/api/alarms/{alarm}/clear", json={})
    assert client.get(f"/api/devices/{device}").json()["alarms"] == []
    assert client.get(f"/api/spaces/{graph.unit}").json()["alarms"] == []


def test_the_scene_counts_each_building_s_alarms_and_names_the_worst(
    client: TestClient, engine: Engine, graph: Graph
) -> None:
    raised(
        engine, graph, "PS-1", rule="pressure", subject=f"device:{graph.devices['PS-1']}", severity=AlarmSeverity.MINOR
    )
    raised(engine, graph)
    counters = client.get(f"/api/sites/{graph.site}/scene").json()["counters"][str(graph.building)]
    assert (counters["alarms"], counters["worst_severity"]) == (2, "critical")


def test_a_storm_counts_once_with_its_active_children_and_a_cleared_alarm_not_at_all(
    client: TestClient, engine: Engine, graph: Graph
) -> None:
    """The wall's figures are these: active roots, a storm once, the devices it cut off beside it."""
    gateway = f"device:{graph.devices['GW-1']}"
    offline = {"rule": "offline", "condition": "offline", "severity": AlarmSeverity.MAJOR}
    root = raised(engine, graph, "GW-1", subject=gateway, **offline)
    children = [
        raised(engine, graph, name, subject=f"device:{graph.devices[name]}", parent=("offline", gateway), **offline)
        for name in ("SD-1", "SD-2")
    ]
    pressure = raised(
        engine, graph, "PS-1", rule="pressure", subject=f"device:{graph.devices['PS-1']}", severity=AlarmSeverity.MINOR
    )

    def counted() -> tuple[dict[str, int], int]:
        found = {c["place_id"]: c for c in client.get("/api/alarms/counts").json() if c["level"] == "building"}
        return found[graph.building]["counts"], found[graph.building]["grouped"]

    assert counted() == ({"major": 1, "minor": 1}, 2)
    assert [(a["id"], a["children"]) for a in client.get("/api/alarms", params={"severity": "major"}).json()] == [
        (root, 2)
    ]
    client.post(f"/api/alarms/{children[0]}/clear", json={})  # one device is back: one fewer cut off
    client.post(f"/api/alarms/{pressure}/clear", json={})  # cleared: on the board until closed, counted nowhere
    assert counted() == ({"major": 1}, 1)
    assert client.get(f"/api/alarms/{root}").json()["children"] == 1
    assert client.get(f"/api/sites/{graph.site}/scene").json()["counters"][str(graph.building)]["alarms"] == 1
