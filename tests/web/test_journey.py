"""The operator's journey in the Chinese UI, against a real server, broker, store and Chromium.

A smoke reading published over MQTT as zigbee2mqtt would publish it raises a critical alarm;
the detector is painted red (read back from the canvas), the wall's ticker names it 紧急, the
operator acknowledges it and opens a ticket from the device panel, the store holds both, and a
second operator's open panel shows the acknowledgement within 2 s. Screenshots are kept under
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from playwright.sync_api import Browser, Page

from tests.ingest.helpers import Publisher, query
from tests.web.conftest import ARTIFACTS, WebServer
from tests.web.pixels import on_screenshot
from tests.web.test_live import _device, _smoke_rule, _zigbee

DETECTOR = "SD-1-1-202"
CRITICAL_ZH = "紧急"
SEEN_LIMIT_S = 2.0

# The reddest pixel of a small patch of a screenshot, as (r, g, b).
PATCH_JS = on_screenshot(
    "[png, x, y, r]",
    """
  const data = g.getImageData(Math.round(x - r), Math.round(y - r), 2 * r + 1, 2 * r + 1).data;
  const redness = (i) => data[i] - Math.max(data[i + 1], data[i + 2]);
  let best = 0;
  for (let i = 0; i < data.length; i += 4) if (redness(i) > redness(best)) best = i;
  return [data[best], data[best + 1], data[best + 2]];
""",
)


def _operator(browser: Browser, server: WebServer, path: str = "/") -> Page:
    """Sign in to the Chinese UI and wait for the live socket."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server.url}{path}?lang=zh")
    page.fill("input[name=username]", server.username)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin && window.__twin.connection === 'live'", timeout=30_000)
    return page


def _open_device(page: Page, tag: str, device: dict[str, Any]) -> None:
    """Find the device by its tag, as an operator would, and wait for its floor and its panel."""
    page.fill(".search-input", tag)
    page.press(".search-input", "Enter")
    page.wait_for_function(
        f"() => window.__twin.floor === '{device['floor_id']}' && window.__twin.panel === 'device:{device['id']}'",
        timeout=30_000,
    )
    page.wait_for_selector(".panel table.values", timeout=30_000)


def _redness(page: Page, device_id: int, name: str) -> tuple[str, int]:
    """Return the colour the scene paints a device and how much redder than green or blue it is drawn."""
    probe = page.evaluate(f"window.__twin.probe('{device_id}')")
    assert probe is not None, "the device is not drawn on the focused floor"
    png = page.screenshot(path=str(ARTIFACTS / f"web-journey-{name}.png"), timeout=60_000)
    r, g, b = page.evaluate(PATCH_JS, [base64.b64encode(png).decode(), probe["x"], probe["y"], 5])
    return probe["colour"], r - max(g, b)


def test_an_operator_acknowledges_a_fire_and_opens_a_ticket(
    browser: Browser, web_server: WebServer, publisher: Publisher
) -> None:
    _smoke_rule(web_server, "journey smoke")
    device = _device(web_server, DETECTOR)
    alarm_selector = ".panel li.alarm[data-state='{}']"
    operator = _operator(browser, web_server)
    _open_device(operator, DETECTOR, device)
    assert operator.locator(".panel").inner_text().count("无活动告警") == 1
    operator.wait_for_timeout(1500)
    _, calm = _redness(operator, device["id"], "calm")
    wall = _operator(browser, web_server, "/wall")

    _zigbee(publisher, DETECTOR, smoke=True, battery=90, linkquality=120)
    # The wall's ticker names the alarm by its Chinese label.
    ticker = wall.locator(".ticker .item[data-severity=critical]")
    ticker.first.wait_for(timeout=15_000)
    assert CRITICAL_ZH in ticker.first.inner_text()
    wall.screenshot(path=str(ARTIFACTS / "web-journey-wall.png"), timeout=60_000)
    wall.close()

    # The detector is painted the catalogue's critical colour, and the canvas shows it red.
    critical = "#d00000"
    operator.wait_for_function(
        f"() => window.__twin.probe && window.__twin.probe('{device['id']}')?.colour === '{critical}'", timeout=15_000
    )
    operator.locator(alarm_selector.format("raised")).wait_for(timeout=15_000)
    colour, alarmed = _redness(operator, device["id"], "red")
    assert colour == critical and alarmed > 50 and alarmed > calm + 40, f"drawn {calm} then {alarmed} redder"
    alarm_item = operator.locator(alarm_selector.format("raised")).first
    assert CRITICAL_ZH in alarm_item.inner_text()
    alarm_id = int(alarm_item.get_attribute("data-alarm") or "0")

    # A second operator has the same panel open while the first acknowledges.
    colleague = _operator(browser, web_server)
    _open_device(colleague, DETECTOR, device)
    colleague.locator(alarm_selector.format("raised")).wait_for(timeout=15_000)
    alarm_item.locator("button[data-action=ack]").click()
    clicked = time.monotonic()
    colleague.locator(alarm_selector.format("acknowledged")).wait_for(timeout=int(SEEN_LIMIT_S * 1000) + 3000)
    seen_s = time.monotonic() - clicked
    assert seen_s < SEEN_LIMIT_S, f"the second page showed the acknowledgement after {seen_s:.2f} s"
    # Then the re-read panel says who acknowledged.
    colleague.locator(alarm_selector.format("acknowledged"), has_text=f"{web_server.username} 已确认").wait_for(
        timeout=10_000
    )
    colleague.close()

    operator.locator(alarm_selector.format("acknowledged")).wait_for(timeout=10_000)
    operator.locator(".panel li.alarm button[data-action=ticket]").click()
    operator.locator(".panel li.ticket").first.wait_for(timeout=10_000)
    operator.screenshot(path=str(ARTIFACTS / "web-journey-panel.png"), timeout=60_000)
    assert "待派单" in operator.locator(".panel li.ticket").first.inner_text()

    # The store holds the acknowledgement and the ticket, naming each other.
    [(state, by, ticket_id)] = query(
        web_server.db_url, "SELECT state, acknowledged_by, ticket_id FROM alarms WHERE id = %s", (alarm_id,)
    )
    assert (state, by) == ("acknowledged", web_server.username) and ticket_id is not None
    [(ticket_alarm, ticket_device, status)] = query(
        web_server.db_url, "SELECT alarm_id, device_id, status FROM tickets WHERE id = %s", (ticket_id,)
    )
    assert (ticket_alarm, ticket_device, status) == (alarm_id, device["id"], "open")
    assert operator.evaluate("window.__twin.errors") == []
    operator.close()
