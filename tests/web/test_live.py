"""The pages live through the hub's /ws, against a real server, a real broker and real ingest.

A smoke reading published through Mosquitto as zigbee2mqtt would publish it must bring the wall
to the detector's floor within 2 s; a sensor's readings must change in the device panel without
a reload. Screenshots are kept under tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.ingest.helpers import Publisher
from tests.web.conftest import ARTIFACTS, WebServer

SMOKE_DETECTOR = "SD-2-1-201"
EARLIER_DETECTOR = "SD-1-1-301"
SENSOR = "ENV-1-1"
TAKEOVER_LIMIT_MS = 2000


def _call(server: WebServer, method: str, path: str, body: Any = None) -> Any:
    login = json.dumps({"username": server.username, "password": server.password}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/auth/login", data=login, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.load(answer)["access_token"]
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    request = urllib.request.Request(f"{server.url}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _device(server: WebServer, tag: str) -> dict[str, Any]:
    """Return a device's search hit, with the site and building it is in."""
    hits = _call(server, "GET", f"/api/search?q={tag}")["items"]
    hit: dict[str, Any] = next(h for h in hits if h["type"] == "device")
    site = _call(server, "GET", "/api/sites")["items"][0]
    scene = _call(server, "GET", f"/api/sites/{site['id']}/scene")
    building = next(b for b in scene["buildings"] if any(f["id"] == hit["floor_id"] for f in b["floors"]))
    return {**hit, "site_id": site["id"], "building_id": building["id"]}


def _zigbee(publisher: Publisher, friendly_name: str, **values: Any) -> None:
    """Publish one zigbee2mqtt state message, stamped now, and wait for the broker's ack."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    publisher.send(f"zigbee2mqtt/{friendly_name}", json.dumps({**values, "last_seen": stamp}))
    publisher.flush(10)


def _smoke_rule(server: WebServer, name: str) -> None:
    """Declare that smoke on any detector is a critical alarm."""
    spec = {"name": name, "kind": "smoke_detector", "quantity": "smoke", "condition": "equals", "threshold": True}
    _call(server, "POST", "/api/alarms/rules", {"type": "device", "spec": {**spec, "severity": "critical"}})


def _open(browser: Browser, server: WebServer, path: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.goto(f"{server.url}{path}?lang=en")
    page.fill("input[name=username]", server.username)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin && window.__twin.connection === 'live'", timeout=30_000)
    return page, failures


def test_fire_takes_the_wall_to_its_floor(browser: Browser, web_server: WebServer, publisher: Publisher) -> None:
    _smoke_rule(web_server, "web test smoke")
    detector = _device(web_server, SMOKE_DETECTOR)
    floor = str(detector["floor_id"])
    page, failures = _open(browser, web_server, "/wall")
    page.wait_for_function("() => window.__twin.scopes.length > 1 && window.__twin.buildings > 0", timeout=30_000)
    scopes = page.evaluate("window.__twin.scopes")
    assert f"site:{detector['site_id']}" in scopes and f"building:{detector['building_id']}" in scopes
    # Bills were loaded with the scene: the hub's billing snapshot gives the tower its rate.
    payment = f".counter[data-building='{detector['building_id']}'] [data-figure=payment] b"
    page.wait_for_function(
        "([s]) => document.querySelector(s)?.textContent.endsWith('%')", arg=[payment], timeout=30_000
    )
    page.wait_for_timeout(1500)

    published = time.monotonic()
    _zigbee(publisher, SMOKE_DETECTOR, smoke=True, battery=90, linkquality=120)
    page.wait_for_function(
        f"() => window.__twin.takeover && window.__twin.takeover.floor === '{floor}'", timeout=15_000
    )
    end_to_end_ms = (time.monotonic() - published) * 1000
    takeover = page.evaluate("window.__twin.takeover")
    page.screenshot(path=str(ARTIFACTS / "web-wall-fire.png"), timeout=60_000)
    assert takeover["place"] == f"device:{detector['id']}"
    assert takeover["ms"] < TAKEOVER_LIMIT_MS, f"the wall took {takeover['ms']} ms from the alarm to the floor"
    assert end_to_end_ms < TAKEOVER_LIMIT_MS + 1000, f"{end_to_end_ms:.0f} ms from the smoke reading to the wall"
    hooks = page.evaluate("window.__twin")
    assert hooks["floor"] == floor
    assert f"floor:{floor}" in hooks["scopes"]
    assert page.locator(".banner").is_visible()
    counter = page.locator(f".counter[data-building='{detector['building_id']}'] [data-figure=alarms] b")
    assert int(counter.inner_text()) >= 1
    # Only places and counts: no resident's name or phone reaches the wall.
    text = page.locator("body").inner_text()
    for resident in ("赵建强", "13066442114"):
        assert resident not in text
    assert failures == [] and hooks["errors"] == []
    page.close()


def test_a_critical_alarm_raised_before_the_wall_connects_takes_it_over(
    browser: Browser, web_server: WebServer, publisher: Publisher
) -> None:
    """A wall switched on during a fire goes to the fire: the alarm comes in the snapshot, not as news."""
    _smoke_rule(web_server, "web test smoke, before the wall")
    detector = _device(web_server, EARLIER_DETECTOR)
    _zigbee(publisher, EARLIER_DETECTOR, smoke=True, battery=88, linkquality=110)
    deadline = time.monotonic() + 15
    while not _call(web_server, "GET", f"/api/alarms?device_id={detector['id']}&state=raised"):
        assert time.monotonic() < deadline, "the smoke reading raised no alarm"
        time.sleep(0.2)
    page, failures = _open(browser, web_server, "/wall")
    floor = str(detector["floor_id"])
    page.wait_for_function(
        f"() => window.__twin.takeover && window.__twin.takeover.floor === '{floor}'", timeout=15_000
    )
    assert page.evaluate("window.__twin.takeover")["place"] == f"device:{detector['id']}"
    assert page.locator(".banner").is_visible()
    page.screenshot(path=str(ARTIFACTS / "web-wall-fire-on-arrival.png"), timeout=60_000)
    assert failures == [] and page.evaluate("window.__twin")["errors"] == []
    page.close()


def test_a_clicked_device_shows_live_values(browser: Browser, web_server: WebServer, publisher: Publisher) -> None:
    sensor = _device(web_server, SENSOR)
    floor = str(sensor["floor_id"])
    _zigbee(publisher, SENSOR, temperature=21.5, humidity=40)
    page, failures = _open(browser, web_server, "/")
    page.wait_for_function("() => window.__twin.buildings > 0 && window.__twin.firstFrameMs !== null", timeout=60_000)
    assert page.locator(".indicator").get_attribute("data-fallback") == "false"
    page.fill(".search-input", SENSOR)
    page.press(".search-input", "Enter")
    page.wait_for_function(
        f"() => window.__twin.floor === '{floor}' && window.__twin.scopes.includes('floor:{floor}')", timeout=30_000
    )
    page.click(".panel .close")
    page.wait_for_function("() => window.__twin.panel === null", timeout=10_000)
    page.click("button:has-text('Plan')")
    page.click(f".plan-box g.pin[data-device='{sensor['id']}']")
    page.wait_for_function(f"() => window.__twin.panel === 'device:{sensor['id']}'", timeout=30_000)
    cell = page.locator(".panel tr[data-quantity=temperature] td.value")
    cell.wait_for(timeout=30_000)
    shown = []
    for value in (23.25, 24.75):
        _zigbee(publisher, SENSOR, temperature=value, humidity=41)
        page.wait_for_function(
            "([v]) => { const c = document.querySelector('.panel tr[data-quantity=temperature] td.value');"
            " return c && c.textContent.startsWith(v); }",
            arg=[str(value)],
            timeout=10_000,
        )
        shown.append(cell.inner_text())
    page.screenshot(path=str(ARTIFACTS / "web-device-live.png"), timeout=60_000)
    assert shown[0] != shown[1]
    hooks = page.evaluate("window.__twin")
    assert hooks["polls"] == 0 and hooks["polling"] is False, "the page polled although the socket was live"
    # Leaving the floor ends its subscription; the site's stays.
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => !window.__twin.scopes.includes('floor:{floor}')", timeout=10_000)
    assert page.evaluate("window.__twin.scopes") == [f"site:{sensor['site_id']}"]
    assert failures == [] and hooks["errors"] == []
    page.close()


def _plan_of_sensor_floor(browser: Browser, server: WebServer, floor: str) -> tuple[Page, list[str]]:
    """Open the view, fly to the sensor's floor by search and show its 2D plan."""
    page, failures = _open(browser, server, "/")
    page.wait_for_function("() => window.__twin.buildings > 0", timeout=60_000)
    page.fill(".search-input", SENSOR)
    page.press(".search-input", "Enter")
    page.wait_for_function(f"() => window.__twin.floor === '{floor}'", timeout=30_000)
    page.click(".panel .close")
    page.click("button:has-text('Plan')")
    return page, failures


def test_billing_layer_follows_payments(browser: Browser, web_server: WebServer) -> None:
    floor = str(_device(web_server, SENSOR)["floor_id"])
    standings = _call(web_server, "GET", f"/api/billing/status?under={floor}")["items"]
    overdue = next(u for u in standings if u["status"] == "overdue")
    unit = str(overdue["unit_id"])
    page, failures = _plan_of_sensor_floor(browser, web_server, floor)
    page.select_option("select[aria-label='Space layer']", "billing")
    room = f".plan-box polygon[data-space='{unit}']"
    before = page.get_attribute(room, "fill")
    kinds = page.eval_on_selector_all(
        ".plan-box polygon.room", "ps => new Set(ps.map(p => p.getAttribute('fill'))).size"
    )
    assert kinds >= 2, "the billing layer paints every room alike"

    # Paying what is outstanding makes the household paid: the hub's billing event repaints it.
    detail = _call(web_server, "GET", f"/api/billing/units/{unit}")
    for n, charge in enumerate(c for c in detail["charges"] if float(c["outstanding"]) > 0):
        payment = {"reference": f"WEB-{unit}-{n}", "amount": charge["outstanding"], "paid_on": date.today().isoformat()}
        _call(web_server, "POST", f"/api/billing/charges/{charge['id']}/payments", payment)
    page.wait_for_function(
        "([s, f]) => document.querySelector(s)?.getAttribute('fill') !== f", arg=[room, before], timeout=10_000
    )
    page.screenshot(path=str(ARTIFACTS / "web-billing-layer.png"), timeout=60_000)
    paid = next(u for u in standings if u["status"] == "paid")
    assert page.get_attribute(room, "fill") == page.get_attribute(
        f".plan-box polygon[data-space='{paid['unit_id']}']", "fill"
    )
    assert failures == [] and page.evaluate("window.__twin.errors") == []
    page.close()


def test_rest_polling_stands_in_only_while_the_socket_cannot_connect(browser: Browser, web_server: WebServer) -> None:
    floor = str(_device(web_server, SENSOR)["floor_id"])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    # Every attempt at the live socket is refused before it reaches the server.
    page.route_web_socket("**/ws", lambda ws: ws.close(code=1011, reason="test: no live hub"))
    page.goto(f"{web_server.url}/?lang=en")
    page.fill("input[name=username]", web_server.username)
    page.fill("input[name=password]", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin.polling === true", timeout=30_000)
    indicator = page.locator(".indicator")
    assert indicator.get_attribute("data-fallback") == "true"
    assert "refreshing every 10 s" in indicator.inner_text()
    page.fill(".search-input", SENSOR)
    page.press(".search-input", "Enter")
    page.wait_for_function(f"() => window.__twin.floor === '{floor}' && window.__twin.polls > 0", timeout=30_000)
    page.wait_for_function("() => window.__twin.dataAgeMs !== null && window.__twin.dataAgeMs < 15000", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "web-fallback.png"), timeout=60_000)
    assert page.evaluate("window.__twin.connection") in {"connecting", "reconnecting"}
    assert page.evaluate("window.__twin.errors") == []
    page.close()


def test_energy_layer_paints_rooms_by_their_meters(
    browser: Browser, web_server: WebServer, publisher: Publisher
) -> None:
    floor = str(_device(web_server, SENSOR)["floor_id"])
    meters = _call(web_server, "GET", f"/api/devices?under={floor}&kind=electricity_meter")["items"]
    assert len(meters) >= 2, "the scene has no household meters on this floor"
    # Two households use energy, one twice the other; the floor's other rooms report none.
    shanghai = timezone(timedelta(hours=8))
    for meter, kwh in zip(meters[:2], (3.0, 6.0), strict=True):
        topic = f"tele/{meter['tag'].lower().replace('-', '_')}/SENSOR"
        for n, total in enumerate((100.0, 100.0 + kwh)):
            local = (datetime.now(shanghai) - timedelta(minutes=10 - n * 5)).strftime("%Y-%m-%dT%H:%M:%S")
            publisher.send(topic, json.dumps({"Time": local, "ENERGY": {"Total": total, "Power": 200.0}}))
    publisher.flush(10)
    used = {str(m["space_id"]) for m in meters[:2]}
    deadline = time.monotonic() + 30
    while True:
        spaces = _call(web_server, "GET", f"/api/floors/{floor}/layers")["spaces"]
        if used <= {space for space, facts in spaces.items() if facts["energy_kwh"] > 0}:
            break
        assert time.monotonic() < deadline, f"the meters' readings did not reach the energy layer: {spaces}"
        time.sleep(0.5)
    page, failures = _plan_of_sensor_floor(browser, web_server, floor)
    page.select_option("select[aria-label='Space layer']", "kind")
    rooms = ".plan-box polygon.room"
    by_kind = page.eval_on_selector_all(
        rooms, "ps => Object.fromEntries(ps.map(p => [p.dataset.space, p.getAttribute('fill')]))"
    )
    page.select_option("select[aria-label='Space layer']", "energy")
    page.wait_for_function(
        "([s, k]) => [...document.querySelectorAll(s)].some(p => p.getAttribute('fill') !== k[p.dataset.space])",
        arg=[rooms, by_kind],
        timeout=10_000,
    )
    fills = page.eval_on_selector_all(
        rooms, "ps => Object.fromEntries(ps.map(p => [p.dataset.space, p.getAttribute('fill')]))"
    )
    low, high = (fills[str(m["space_id"])] for m in meters[:2])
    unmetered = {fill for space, fill in fills.items() if space not in used}
    assert low != high, "twice the energy use is painted like the half"
    assert not {low, high} & unmetered, "a metered room is painted like a room without meters"
    # The legend says what the ramp's ends mean: nothing, and the floor's largest use.
    spaces = _call(web_server, "GET", f"/api/floors/{floor}/layers")["spaces"]
    largest = max(facts["energy_kwh"] for facts in spaces.values() if facts["energy_kwh"] is not None)
    legend = page.locator("[data-legend=energy]")
    legend.wait_for(state="visible", timeout=10_000)
    assert float(legend.locator("[data-top]").get_attribute("data-top") or "nan") == pytest.approx(largest, abs=0.05)
    assert f"{largest:.1f} kWh" in legend.inner_text() and "no meter" in legend.inner_text()
    page.screenshot(path=str(ARTIFACTS / "web-energy-layer.png"), timeout=60_000)
    page.select_option("select[aria-label='Space layer']", "kind")
    assert legend.is_hidden(), "the energy legend stays on another layer"
    assert failures == [] and page.evaluate("window.__twin.errors") == []
    page.close()
