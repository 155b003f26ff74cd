"""The inspector's and the responder's journeys in Chromium, against the real server, broker and database.

Each journey asserts what the person sees and then what the store holds: the inspector walks a
round over two floors, recording a defect with a photo while the tablet is offline and with an
answer lost on the way, and the database holds each result once and one ticket; the responder
opens the link an operator made in the view, by the absolute address its QR code holds, and sees
the fire floor, the route and red detectors, and nothing of bills or residents.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.ingest.helpers import Publisher
from tests.web.conftest import ARTIFACTS, PASSWORD, WebServer
from tests.web.pixels import on_screenshot

INSPECTOR = "web-inspector"
OPERATOR = "web-operator"
FIRE_DETECTOR = "SD-2-1-301"

# The grey pixels of a PNG, decoded by the browser that drew it.
GREY_JS = on_screenshot(
    "png",
    """
  const data = g.getImageData(0, 0, image.width, image.height).data;
  const grey = new Array(image.width * image.height);
  for (let i = 0; i < grey.length; i += 1) grey[i] = Math.round((data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / 3);
  return [image.width, image.height, grey];
""",
)


def _token(server: WebServer, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/auth/login", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def _call(server: WebServer, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    token = token or _token(server, server.username, server.password)
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    request = urllib.request.Request(f"{server.url}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=20) as answer:
        raw = answer.read()
        return json.loads(raw) if raw else None


def _status(server: WebServer, path: str, token: str) -> int:
    request = urllib.request.Request(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _user(server: WebServer, username: str, role: str, place_id: int) -> None:
    _call(server, "POST", "/api/users", {"username": username, "password": PASSWORD})
    _call(server, "POST", f"/api/users/{username}/grants", {"role": role, "place_id": place_id})


def _png(width: int, height: int) -> bytes:
    """Return a real PNG (a camera's photo stands in as a red square) the browser can decode."""
    raw = b"".join(b"\x00" + bytes([200, 40, 40]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def store(web_server: WebServer) -> Iterator[Engine]:
    """The server's database, read the way an auditor would."""
    engine = create_engine(web_server.db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(web_server: WebServer) -> dict[str, Any]:
    site_id = _call(web_server, "GET", "/api/sites")["items"][0]["id"]
    scene: dict[str, Any] = _call(web_server, "GET", f"/api/sites/{site_id}/scene")
    return scene


def _sign_in(page: Page, server: WebServer, path: str, username: str) -> None:
    page.goto(f"{server.url}{path}?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _plan_round(server: WebServer, building: dict[str, Any]) -> dict[str, Any]:
    """Plan a round of the building's call points for the inspector: a few stops on more than one floor."""
    long_ago = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    _call(
        server,
        "POST",
        "/api/inspections/plans",
        {
            "place_id": building["id"],
            "name": "手报月检",
            "every": "month",
            "device_kinds": ["manual_call_point"],
            "starts_at": long_ago,
        },
    )
    rnd: dict[str, Any] = _call(
        server,
        "POST",
        "/api/inspections/rounds",
        {"place_id": building["id"], "inspector": INSPECTOR, "budget_minutes": 240},
    )
    return rnd


def test_the_inspector_walks_a_round_over_two_floors_and_loses_nothing_offline(
    browser: Browser, web_server: WebServer, site: dict[str, Any], store: Engine
) -> None:
    building = site["buildings"][0]
    _user(web_server, INSPECTOR, "inspector", building["id"])
    rnd = _plan_round(web_server, building)
    stops = rnd["stops"]
    floors = list(dict.fromkeys(s["floor_id"] for s in stops))
    assert len(floors) >= 2 and len(stops) >= 3, f"the round should span floors: {stops}"
    # The defect is the first stop of the second floor; the stop before it answers, but the answer is lost.
    defect_at = next(i for i, s in enumerate(stops) if s["floor_id"] == floors[1])
    lost_at = defect_at - 1

    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    # The first read of the rounds meets a server error: the page says so and tries again.
    first_read = {"failed": False}

    def flaky_rounds(route: Route) -> None:
        if not first_read["failed"]:
            first_read["failed"] = True
            route.fulfill(status=500, body='{"detail": "boom"}', content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/inspections/rounds?*", flaky_rounds)
    lost = {"done": False}

    def lose_answer(route: Route) -> None:
        # The server records the result, then the connection drops before the tablet hears it.
        if not lost["done"]:
            lost["done"] = True
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**/api/inspections/rounds/{rnd['id']}/stops/{stops[lost_at]['id']}", lose_answer)
    _sign_in(page, web_server, "/inspect", INSPECTOR)
    page.wait_for_selector(".toast[data-notice=load]", timeout=30_000)
    assert "retrying" in page.locator(".toast[data-notice=load]").inner_text()
    total = len(stops)
    page.wait_for_function(f"() => window.__twin.panel === 'round:{rnd['id']}:0/{total}'", timeout=30_000)
    page.wait_for_function(f"() => window.__twin.floor === '{floors[0]}' && window.__twin.route >= 2", timeout=30_000)
    assert page.locator(".toast[data-notice=load]").count() == 0
    assert page.locator(".plan2d .stop").count() == sum(1 for s in stops if s["floor_id"] == floors[0])
    assert page.locator(".stops .floor-change").count() == len(floors) - 1
    page.screenshot(path=str(ARTIFACTS / "web-inspect-round.png"), timeout=60_000)

    for i in range(defect_at):
        page.click(".result-form button[type=submit]")
        page.wait_for_function(f"() => window.__twin.panel === 'round:{rnd['id']}:{i + 1}/{total}'", timeout=15_000)
    # The lost answer: the result stays queued and is sent again; the server holds it once.
    page.wait_for_function("() => window.__twin.outbox === 0", timeout=30_000)

    context.set_offline(True)
    page.wait_for_function(f"() => window.__twin.floor === '{floors[1]}'", timeout=15_000)
    page.check(".result-form input[value=defect]")
    page.fill(".result-form textarea[name=note]", "手报按钮面板破损")
    page.set_input_files(
        ".result-form input[type=file]", files=[{"name": "damage.png", "mimeType": "image/png", "buffer": _png(64, 48)}]
    )
    page.click(".result-form button[type=submit]")
    page.wait_for_function(f"() => window.__twin.panel === 'round:{rnd['id']}:{defect_at + 1}/{total}'", timeout=15_000)
    page.wait_for_selector(".toast[data-notice=outbox]", timeout=15_000)
    assert "kept on this tablet" in page.locator(".toast[data-notice=outbox]").inner_text()
    assert page.evaluate("window.__twin.outbox") == 1
    with store.connect() as db:
        assert db.scalar(text("SELECT count(*) FROM tickets WHERE source = 'inspection'")) == 0, "offline: nothing sent"
    # A note typed for the next stop while offline survives a reload.
    page.fill(".result-form textarea[name=note]", "下一站备注")
    page.wait_for_timeout(6000)
    assert page.evaluate("window.__twin.outbox") == 1, "retries while offline keep the result"

    context.set_offline(False)
    page.wait_for_function("() => window.__twin.outbox === 0", timeout=30_000)
    page.wait_for_selector(".toast[data-notice=outbox]", state="detached", timeout=15_000)
    page.reload()
    page.wait_for_function(f"() => window.__twin.panel === 'round:{rnd['id']}:{defect_at + 1}/{total}'", timeout=30_000)
    assert page.locator(".result-form textarea[name=note]").input_value() == "下一站备注"
    for i in range(defect_at + 1, total):
        page.click(".result-form button[type=submit]")
        page.wait_for_function(f"() => window.__twin.panel === 'round:{rnd['id']}:{i + 1}/{total}'", timeout=15_000)
    page.wait_for_function("() => window.__twin.outbox === 0", timeout=30_000)
    page.wait_for_selector(".alert-box", timeout=15_000)
    assert "complete" in page.locator("#side .alert-box").inner_text()
    page.screenshot(path=str(ARTIFACTS / "web-inspect-done.png"), timeout=60_000)
    assert failures == [], failures
    context.close()

    with store.connect() as db:
        query = text("SELECT stop_id, outcome, note, ticket_id FROM inspection_visits WHERE round_id = :r")
        visits = db.execute(query, {"r": rnd["id"]}).all()
        assert sorted(v.stop_id for v in visits) == sorted(s["id"] for s in stops), "every stop once"
        (defect,) = [v for v in visits if v.outcome == "defect"]
        assert defect.stop_id == stops[defect_at]["id"] and defect.note == "手报按钮面板破损"
        tickets = db.execute(text("SELECT id, device_id FROM tickets WHERE source = 'inspection'")).all()
        assert [t.id for t in tickets] == [defect.ticket_id] and tickets[0].device_id == stops[defect_at]["device_id"]
        photos = db.execute(text("SELECT media_type FROM ticket_photos WHERE ticket_id = :t"), {"t": defect.ticket_id})
        assert [p.media_type for p in photos] == ["image/jpeg"]
        status = db.scalar(text("SELECT status FROM inspection_rounds WHERE id = :r"), {"r": rnd["id"]})
        assert status == "done"


def _zigbee(publisher: Publisher, friendly_name: str, **values: Any) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    publisher.send(f"zigbee2mqtt/{friendly_name}", json.dumps({**values, "last_seen": stamp}))
    publisher.flush(10)


def _decode_qr(page: Page) -> str:
    """Screenshot the QR code the page drew from the server's SVG and decode it."""
    png = page.locator(".links .qr svg").screenshot(path=str(ARTIFACTS / "web-emergency-qr.png"))
    width, height, grey = page.evaluate(GREY_JS, base64.b64encode(png).decode())
    image = np.array(grey, dtype=np.uint8).reshape(height, width)
    codes = zxingcpp.read_barcodes(image)
    assert codes, "no QR code found in the drawn link"
    return str(codes[0].text)


def test_the_responder_opens_the_operators_link_and_sees_the_fire_not_the_residents(
    browser: Browser, web_server: WebServer, site: dict[str, Any], publisher: Publisher, store: Engine
) -> None:
    site_id = site["site"]["id"]
    _user(web_server, OPERATOR, "operator", site_id)
    rule = {"name": "smoke", "kind": "smoke_detector", "quantity": "smoke", "condition": "equals", "threshold": True}
    _call(web_server, "POST", "/api/alarms/rules", {"type": "device", "spec": rule | {"severity": "critical"}})
    red = _call(web_server, "GET", "/api/catalogue")["alarm_severity"]["critical"]["colour"]
    hit = next(h for h in _call(web_server, "GET", f"/api/search?q={FIRE_DETECTOR}")["items"] if h["type"] == "device")
    _zigbee(publisher, FIRE_DETECTOR, smoke=True, battery=90, linkquality=120)
    deadline = time.monotonic() + 15
    while not _call(web_server, "GET", f"/api/alarms?device_id={hit['id']}&state=raised"):
        assert time.monotonic() < deadline, "the smoke reading raised no alarm"
        time.sleep(0.2)

    operator = browser.new_context(viewport={"width": 1280, "height": 800})
    page = operator.new_page()
    made = {"failed": False}

    def flaky_create(route: Route) -> None:
        # The first attempt meets a server error before reaching the store: a notice, and the hours stay as typed.
        if route.request.method == "POST" and not made["failed"]:
            made["failed"] = True
            route.fulfill(status=500, body='{"detail": "boom"}', content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/emergency-links", flaky_create)
    _sign_in(page, web_server, "/", OPERATOR)
    page.click("button[data-open=links]", timeout=60_000)
    page.fill(".links input[name=hours]", "6")
    page.click(".links button[type=submit]")
    page.wait_for_selector(".toast.error", timeout=15_000)
    assert "try again" in page.locator(".toast.error").last.inner_text()
    assert page.locator(".links input[name=hours]").input_value() == "6"
    page.click(".links button[type=submit]")
    page.wait_for_selector(".links .qr svg", timeout=15_000)
    assert page.locator(".links [data-warning=loopback]").is_visible(), "127.0.0.1 is no address for a phone"
    url = _decode_qr(page)
    assert url.startswith(f"{web_server.url}/respond?key="), url
    assert page.locator(".links .made a").get_attribute("href") == url
    page.wait_for_selector(".links li[data-state=active]", timeout=15_000)
    operator.close()

    responder = browser.new_context(viewport={"width": 1280, "height": 800})
    phone = responder.new_page()
    failures: list[str] = []
    asked: list[str] = []
    phone.on("pageerror", lambda error: failures.append(str(error)))
    phone.on("request", lambda request: asked.append(request.url))
    routes = {"failed": False}

    def flaky_route(route: Route) -> None:
        # The first route request meets a server error: the phone says so and asks again.
        if not routes["failed"]:
            routes["failed"] = True
            route.fulfill(status=500, body='{"detail": "boom"}', content_type="application/json")
        else:
            route.continue_()

    phone.route("**/api/routes?*", flaky_route)
    phone.goto(url + "&lang=en")
    floor = str(hit["floor_id"])
    phone.wait_for_selector(".toast[data-notice=load]", timeout=60_000)
    assert "retrying" in phone.locator(".toast[data-notice=load]").inner_text()
    phone.wait_for_function(f"() => window.__twin.floor === '{floor}' && window.__twin.route >= 2", timeout=60_000)
    assert "?key=" not in phone.url, "the key leaves the address bar"
    assert routes["failed"] and phone.locator(".toast[data-notice=load]").count() == 0
    pin = f".plan2d .pin[data-device='{hit['id']}'] .pin-status"
    phone.wait_for_function(
        f"() => document.querySelector(\"{pin}\")?.getAttribute('fill') === '{red}'", timeout=15_000
    )
    assert phone.locator(pin).get_attribute("fill") == red
    assert phone.locator(".plan2d .route-line").count() == 1
    assert "Alarm at" in phone.locator("#side .alert-box").inner_text()
    assert "m across" in phone.locator("#side [data-route]").inner_text()
    assert phone.locator("#side select[name=entrance] option").count() >= 1
    phone.screenshot(path=str(ARTIFACTS / "web-respond-fire.png"), timeout=60_000)
    assert not [u for u in asked if "/billing" in u or "/residents" in u or "/charges" in u], asked
    body = phone.locator("body").inner_text()
    assert "Billing" not in body and "Resident" not in body

    token = phone.evaluate("sessionStorage.getItem('twin.access_token')")
    unit = next(h for h in _call(web_server, "GET", "/api/search?q=2-1-301")["items"] if h["type"] == "unit")
    refused = (
        f"/api/units/{unit['id']}/residents",
        f"/api/billing/units/{unit['id']}",
        f"/api/billing/status?under={site_id}",
        "/api/emergency-links",
    )
    for path in refused:
        assert _status(web_server, path, token) in (403, 404), path
    assert failures == [] and phone.evaluate("window.__twin.errors") == []
    responder.close()

    with store.connect() as db:
        query = text("SELECT uses, expires_at - created_at AS valid FROM emergency_links WHERE site_id = :s")
        (link,) = db.execute(query, {"s": site_id}).all()
        assert link.uses == 1 and abs(link.valid - timedelta(hours=6)) < timedelta(seconds=5)
