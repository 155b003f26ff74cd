"""Inspections on real PostGIS: plans, due and overdue, rounds as walking routes, visits, defects, planned vs walked."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community
from twin.auth.roles import Role

LONG_AGO = (datetime.now(UTC) - timedelta(days=60)).isoformat()


def plan(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "消防设施月检")
    body.setdefault("every", "month")
    response = client.post("/api/inspections/plans", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def plan_round(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    body.setdefault("inspector", "insp")
    return client.post("/api/inspections/rounds", json=body, headers=headers)


def walking(client: TestClient, a: int, b: int) -> float:
    if a == b:
        return 0.0
    response = client.get("/api/routes", params={"from": a, "to": b})
    assert response.status_code == 200, response.text
    return float(response.json()["length"])


def length(order: tuple[int, ...], between: dict[tuple[int, int], float], origin: dict[int, float] | None) -> float:
    legs = sum(between[(a, b)] for a, b in itertools.pairwise(order))
    return legs + (origin[order[0]] if origin else 0.0)


def stop_key(stop: dict[str, Any]) -> tuple[int, int | None, int]:
    return stop["plan_id"], stop["device_id"], stop["space_id"]


def test_a_round_visits_every_chosen_stop_once_within_twenty_percent_of_the_best(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    plan(client, place_id=community.tower, device_kinds=["smoke_detector", "water_pump"], starts_at=LONG_AGO)
    due = client.get("/api/inspections/due", params={"under": community.tower}).json()["items"]
    assert len(due) == 7 and {t["state"] for t in due} == {"overdue"}
    for start in (None, community.stairs[1]):
        response = plan_round(client, place_id=community.tower, budget_minutes=240, start_space_id=start)
        assert response.status_code == 201, response.text
        rnd = response.json()
        stops = rnd["stops"]
        assert [s["seq"] for s in stops] == list(range(1, 8))
        assert sorted(s["device_id"] for s in stops) == sorted(t["device_id"] for t in due), "every stop once"
        assert len({stop_key(s) for s in stops}) == len(stops)
        spaces = [s["space_id"] for s in stops]
        between = {(a, b): walking(client, a, b) for a in set(spaces) for b in set(spaces)}
        origin = {b: walking(client, start, b) for b in set(spaces)} if start else None

        best = min(length(order, between, origin) for order in itertools.permutations(spaces))
        assert abs(rnd["length"] - length(tuple(spaces), between, origin)) < 0.05, (
            "the route API rounds each edge to the centimetre"
        )
        assert rnd["length"] <= 1.2 * best + 0.05
        assert abs(sum(s["leg_length"] for s in stops) - rnd["length"]) < 0.05
        assert rnd["estimated_minutes"] == round(rnd["length"] / 60 + 7 * 5, 1)
        assert {s["reason"] for s in stops} == {"overdue"}
        floors_visited = [s["floor_id"] for s in stops]
        assert set(floors_visited) == {community.floors[lv] for lv in (-1, 1, 2, 3)}, "across floors"
        for a, b in itertools.pairwise(stops):
            assert b["leg"][0] == a["space_id"] and b["leg"][-1] == b["space_id"]


def test_budget_chooses_overdue_then_attention_then_due(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    hydrants = plan(client, place_id=community.tower, device_kinds=["hydrant"], every="week", starts_at=LONG_AGO)
    stairs = plan(
        client,
        place_id=community.tower,
        name="楼梯间巡查",
        every="day",
        space_ids=[community.stairs[1], community.stairs[2]],
    )
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    detectors = plan(client, place_id=community.tower, device_kinds=["smoke_detector"], starts_at=later)
    leak = client.post(
        "/api/tickets",
        json={"device_id": community.devices["sd-3-2-302"], "category": "fire_safety", "description": "误报"},
    ).json()
    rnd = plan_round(client, place_id=community.tower, budget_minutes=24).json()
    reasons = sorted((s["plan_id"], s["reason"]) for s in rnd["stops"])
    assert reasons == [(hydrants["id"], "overdue")] * 3 + [(detectors["id"], "attention")], (
        "5 minutes a stop: the 3 overdue hydrants and the detector with an open ticket fill 24 minutes"
    )
    assert 20 < rnd["estimated_minutes"] <= 24
    skipped = sorted((s["plan_id"], s["space_id"], s["reason"]) for s in rnd["skipped"])
    assert skipped == [
        (stairs["id"], community.stairs[1], "over the time budget"),
        (stairs["id"], community.stairs[2], "over the time budget"),
    ], "the merely due come last"
    due = client.get("/api/inspections/due", params={"under": community.tower, "state": ["ok"]}).json()["items"]
    flagged = next(t for t in due if t["device_id"] == community.devices["sd-3-2-302"])
    assert flagged["attention"] == [f"ticket:{leak['id']}"]


def test_recording_stops_defects_open_tickets_and_planned_against_walked(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    p = plan(client, place_id=community.tower, device_kinds=["hydrant"], starts_at=LONG_AGO)
    rnd = plan_round(client, place_id=community.tower, budget_minutes=120, start_space_id=community.stairs[1]).json()
    assert rnd["status"] == "planned" and len(rnd["stops"]) == 3
    insp = login(client, "insp")
    first, second, third = rnd["stops"]
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    url = f"/api/inspections/rounds/{rnd['id']}/stops"
    ok = client.post(f"{url}/{second['id']}", json={"outcome": "ok", "at": t0.isoformat()}, headers=insp)
    assert ok.status_code == 201 and ok.json()["inspector"] == "insp"
    defect = client.post(
        f"{url}/{first['id']}",
        json={"outcome": "defect", "note": "水带缺失", "at": (t0 + timedelta(minutes=6)).isoformat()},
        headers=insp,
    )
    assert defect.status_code == 201
    ticket = client.get(f"/api/tickets/{defect.json()['ticket_id']}").json()
    assert (ticket["source"], ticket["category"], ticket["device_id"]) == (
        "inspection",
        "fire_safety",
        first["device_id"],
    )
    assert ticket["description"] == "水带缺失" and ticket["reporter"] == "insp"
    again = client.post(f"{url}/{first['id']}", json={"outcome": "ok"}, headers=insp)
    assert again.status_code == 422, "a stop is recorded once"
    future = client.post(
        f"{url}/{third['id']}", json={"outcome": "ok", "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    )
    assert future.status_code == 422
    assert client.get(f"/api/inspections/rounds/{rnd['id']}").json()["status"] == "in_progress"
    client.post(
        f"{url}/{third['id']}", json={"outcome": "ok", "at": (t0 + timedelta(minutes=20)).isoformat()}, headers=insp
    )

    done = client.get(f"/api/inspections/rounds/{rnd['id']}").json()
    assert done["status"] == "done" and done["started_at"] is not None and done["finished_at"] is not None
    walked = done["walked"]
    assert (walked["planned_stops"], walked["visited_stops"], walked["missed_stop_ids"]) == (3, 3, [])
    assert walked["out_of_order"] == 1 and walked["defects"] == 1
    assert walked["walked_minutes"] == 20.0
    order = [community.stairs[1], second["space_id"], first["space_id"], third["space_id"]]
    expected = sum(walking(client, a, b) for a, b in itertools.pairwise(order))
    assert abs(walked["walked_length"] - expected) < 0.05
    assert walked["walked_length"] >= walked["planned_length"] - 0.05
    after = client.get("/api/inspections/due", params={"under": community.tower, "state": ["ok"]}).json()["items"]
    assert sorted(t["device_id"] for t in after if t["plan_id"] == p["id"]) == sorted(
        s["device_id"] for s in rnd["stops"]
    ), "visited targets are up to date"


def test_scope_and_bad_input(client: TestClient, community: Community, make_user: MakeUser) -> None:
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    make_user("insp5", grants=[(Role.INSPECTOR, community.other_tower, None)])
    make_user("cashier", grants=[(Role.FINANCE, community.site, None)])
    plan(client, place_id=community.tower, device_kinds=["hydrant"], starts_at=LONG_AGO)
    rnd = plan_round(client, place_id=community.tower, budget_minutes=60).json()
    stop = rnd["stops"][0]
    outsider = login(client, "insp5")
    recorded = client.post(
        f"/api/inspections/rounds/{rnd['id']}/stops/{stop['id']}", json={"outcome": "ok"}, headers=outsider
    )
    assert recorded.status_code == 404
    assert plan_round(client, login(client, "cashier"), place_id=community.tower, budget_minutes=60).status_code == 403
    assert plan_round(client, place_id=community.tower, budget_minutes=60, inspector="insp5").status_code == 422
    assert plan_round(client, place_id=community.tower, budget_minutes=0).status_code == 422
    assert plan_round(client, place_id=999999, budget_minutes=30).status_code == 404
    no_targets = client.post("/api/inspections/plans", json={"place_id": community.tower, "name": "x", "every": "day"})
    assert no_targets.status_code == 422
    foreign = client.post(
        "/api/inspections/plans",
        json={"place_id": community.floors[1], "name": "x", "every": "day", "space_ids": [community.stairs[2]]},
    )
    assert foreign.status_code == 422 and "not under" in foreign.text
    bad_every = client.post(
        "/api/inspections/plans",
        json={"place_id": community.tower, "name": "x", "every": "fortnight", "device_kinds": ["hydrant"]},
    )
    assert bad_every.status_code == 422


def test_ad_hoc_visits_and_events(client: TestClient, community: Community) -> None:
    events: list[Any] = []
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    unsubscribe = runtime.events.subscribe(lambda e: events.append(e) if e.kind.startswith("inspection") else None)
    try:
        p = plan(client, place_id=community.site, device_kinds=["water_pump"], every="week", starts_at=LONG_AGO)
        visit = client.post(
            "/api/inspections/visits",
            json={"plan_id": p["id"], "device_id": community.devices["pump"], "outcome": "ok"},
        )
        assert visit.status_code == 201, visit.text
        wrong = client.post(
            "/api/inspections/visits",
            json={"plan_id": p["id"], "device_id": community.devices["hydrant-1"], "outcome": "ok"},
        )
        assert wrong.status_code == 422
    finally:
        unsubscribe()
    assert [(e.kind, e.action) for e in events] == [("inspection_plan", "create"), ("inspection_visit", "create")]
    assert events[1].path[-1] == f"device:{community.devices['pump']}"
    state = client.get("/api/inspections/due", params={"under": community.site, "state": ["ok"]}).json()["items"]
    assert [t["device_id"] for t in state] == [community.devices["pump"]]
    paused = client.patch(f"/api/inspections/plans/{p['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert client.get("/api/inspections/due", params={"under": community.site, "state": ["ok"]}).json()["items"] == []
