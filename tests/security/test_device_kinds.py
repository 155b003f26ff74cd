"""A vendor limited to elevators sees elevators and nothing of the other kinds, wherever it looks.

The outside test found smoke alarms in the alarm list, in the counts, in a ``site:`` snapshot over
``/ws`` and the names of smoke detectors among an inspection round's stops.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from tests.security.world import World, system
from twin.alarms.lifecycle import acknowledge_alarm
from twin.auth.roles import Role


def _vendor(client: TestClient, world: World) -> dict[str, str]:
    return world.headers(Role.VENDOR, "G")


def test_alarm_lists_and_counts_hold_only_the_vendors_kinds(client: TestClient, world: World) -> None:
    vendor = _vendor(client, world)
    listed = client.get("/api/alarms", headers=vendor).json()
    elevators = {world.sides[s].elevator_alarm for s in "AB"}
    assert {a["id"] for a in listed} == elevators
    assert client.get(f"/api/alarms/{world.sides['A'].smoke_alarm}", headers=vendor).status_code == 404
    counts = client.get("/api/alarms/counts", headers=vendor).json()
    assert sum(n for c in counts if c["level"] == "building" for n in c["counts"].values()) == 2
    everything = client.get("/api/alarms/counts").json()
    assert sum(n for c in everything if c["level"] == "building" for n in c["counts"].values()) == 4
    assert {a["id"] for a in client.get("/api/alarms").json()} >= elevators | {world.sides["A"].smoke_alarm}


def test_an_inspection_round_names_only_the_vendors_kinds(client: TestClient, world: World) -> None:
    side = world.sides["A"]
    full = client.get(f"/api/inspections/rounds/{side.round}").json()
    assert {s["name"] for s in full["stops"]} == {"A 电梯", "A 烟感"}
    seen = client.get(f"/api/inspections/rounds/{side.round}", headers=_vendor(client, world)).json()
    assert [s["name"] for s in seen["stops"] if s["name"]] == ["A 电梯"]
    assert "A 烟感" not in str(seen)


def test_search_finds_only_the_vendors_kinds(client: TestClient, world: World) -> None:
    hits = client.get("/api/search", params={"q": "烟感"}, headers=_vendor(client, world)).json()["items"]
    assert [h for h in hits if h["type"] == "device"] == []
    lifts = client.get("/api/search", params={"q": "电梯"}, headers=_vendor(client, world)).json()["items"]
    assert {h["id"] for h in lifts if h["type"] == "device"} == {world.sides["A"].elevator, world.sides["B"].elevator}


def _until(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_the_live_snapshot_and_events_hold_only_the_vendors_kinds(client: TestClient, world: World) -> None:
    token = _vendor(client, world)["X-API-Key"]
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "auth", "token": token})
        _until(ws, "ready")
        ws.send_json({"type": "subscribe", "sub": "s", "scope": f"site:{world.site}", "kinds": ["alarm", "ticket"]})
        snap = _until(ws, "snapshot")
        assert {a["id"] for a in snap["alarms"]} == {world.sides[s].elevator_alarm for s in "AB"}
        assert {t["id"] for t in snap["tickets"]} == {world.sides[s].elevator_ticket for s in "AB"}
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        for side in "AB":
            smoke = world.sides[side].smoke_alarm
            system(runtime.engine, lambda s, i=smoke: acknowledge_alarm(s, i, "seen"), runtime.events)
        lift = world.sides["A"].elevator_alarm
        system(runtime.engine, lambda s: acknowledge_alarm(s, lift, "on it"), runtime.events)
        event = _until(ws, "event")
        assert event["kind"] == "alarm" and event["data"]["id"] == world.sides["A"].elevator_alarm, event


def test_the_rule_list_holds_only_rules_on_the_vendors_kinds(client: TestClient, world: World) -> None:
    for spec in (
        {"name": "smoke on", "kind": "smoke_detector", "condition": "offline", "severity": "major"},
        {"name": "lift off", "kind": "elevator", "condition": "offline", "severity": "major"},
        {"name": "B's smoke", "device": "SD-B", "condition": "offline", "severity": "major"},
        {"name": "B's lift", "device": "EL-B", "condition": "offline", "severity": "major"},
    ):
        assert client.post("/api/alarms/rules", json={"spec": spec}).status_code == 201, spec
    listed = {r["name"] for r in client.get("/api/alarms/rules", headers=_vendor(client, world)).json()}
    assert listed == {"lift off", "B's lift"}
    on_a = {r["name"] for r in client.get("/api/alarms/rules", headers=world.headers(Role.VIEWER, "A")).json()}
    assert on_a == {"smoke on", "lift off"}
