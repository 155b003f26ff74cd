"""The 3D view against a real server, in a real browser: what a person sees, checked by pixels.

Each mode's screenshot is kept under tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import ARTIFACTS, WebServer
from tests.web.pixels import on_screenshot

BACKGROUND = (11, 18, 32)
"""The viewer's clear colour, #0b1220."""

# Counts the screenshot's pixels, in the centre of the canvas, that are not the background.
PIXELS_JS = on_screenshot(
    "[png, box, bg]",
    """
  const [x, y, w, h] = box;
  const data = g.getImageData(x, y, w, h).data;
  let other = 0;
  for (let i = 0; i < data.length; i += 4) {
    const d = Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]);
    if (d > 24) other += 1;
  }
  return other / (w * h);
""",
)


def _token(server: WebServer) -> str:
    body = json.dumps({"username": server.username, "password": server.password}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/auth/login", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def _get(server: WebServer, path: str) -> Any:
    request = urllib.request.Request(f"{server.url}{path}", headers={"Authorization": f"Bearer {_token(server)}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _hooks(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.__twin")
    return result


def _drawn_share(page: Page, name: str) -> float:
    """Save a screenshot and return the share of the canvas centre that is not background."""
    png = page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), timeout=60_000)
    box = page.locator("canvas.viewer-canvas").bounding_box()
    assert box is not None, "no 3D canvas on the page"
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    centre = [int(x + w / 4), int(y + h / 4), int(w / 2), int(h / 2)]
    share: float = page.evaluate(PIXELS_JS, [base64.b64encode(png).decode(), centre, list(BACKGROUND)])
    return share


def _sign_in(browser: Browser, server: WebServer, path: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang=en")
    page.fill("input[name=username]", server.username)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    return page


def test_site_floor_and_device_panel(browser: Browser, web_server: WebServer) -> None:
    page = _sign_in(browser, web_server, "/")
    page.wait_for_function("() => window.__twin.buildings > 0 && window.__twin.firstFrameMs !== null", timeout=60_000)
    scene = _get(web_server, "/api/sites/1/scene")
    page.wait_for_function("() => window.__twin.models + window.__twin.modelsFailed > 0", timeout=60_000)
    hooks = _hooks(page)
    assert hooks["errors"] == []
    assert hooks["buildings"] == len([b for b in scene["buildings"] if b["footprint"]])
    assert hooks["modelsFailed"] == 0
    assert _drawn_share(page, "site") > 0.15, "the site view is (almost) only background"
    # The live hub answers: the one socket is up and nothing is polled.
    page.wait_for_function("() => window.__twin.connection === 'live'", timeout=30_000)
    assert page.locator(".indicator").get_attribute("data-fallback") == "false"

    hits = _get(web_server, "/api/search?q=1-1-201")
    unit = next(h for h in hits["items"] if h["type"] in ("unit", "space"))
    page.fill(".search-input", unit["name"].split()[1])
    page.press(".search-input", "Enter")
    page.wait_for_function(
        f"() => window.__twin.floor === '{unit['floor_id']}' && window.__twin.devices > 0", timeout=30_000
    )
    page.wait_for_timeout(1500)
    plan = _get(web_server, f"/api/floors/{unit['floor_id']}/plan")
    assert _hooks(page)["devices"] == len([d for d in plan["devices"] if d["position"]])
    assert page.locator(".floor.active").count() == 1
    assert _drawn_share(page, "floor") > 0.15

    meter = page.locator(".panel li.clickable", has_text="EM-")
    meter.first.click()
    page.wait_for_function("() => String(window.__twin.panel).startsWith('device:')", timeout=30_000)
    page.wait_for_selector(".panel table.values", timeout=30_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "web-device.png"), timeout=60_000)
    assert page.locator(".panel .badge").first.inner_text().strip() != ""
    assert _hooks(page)["errors"] == []
    page.close()


@pytest.mark.parametrize(
    "path", ["/wall", "/inspect", "/respond"]
)
def test_other_modes_load_without_errors(browser: Browser, web_server: WebServer, path: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.goto(f"{web_server.url}{path}?lang=en")
    if page.locator("input[name=username]").count() > 0:
        page.fill("input[name=username]", web_server.username)
        page.fill("input[name=password]", web_server.password)
        page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin && window.__twin.page !== ''", timeout=30_000)
    page.wait_for_timeout(4000)
    page.screenshot(path=str(ARTIFACTS / f"web-{path.strip('/')}.png"), timeout=60_000)
    assert failures == []
    # The responder arrives by an emergency link; without a key the page says so and nothing else fails.
    expected = ["The emergency link is invalid or has expired"] if path == "/respond" else []
    assert _hooks(page)["errors"] == expected
    page.close()


def test_log_out_ends_the_session_on_the_server(browser: Browser, web_server: WebServer) -> None:
    page = _sign_in(browser, web_server, "/")
    page.wait_for_selector("button.logout", timeout=60_000)
    token = page.evaluate("sessionStorage.getItem('twin.access_token')")
    assert token
    page.click("button.logout")
    page.wait_for_selector("input[name=username]", timeout=30_000)
    assert page.evaluate("sessionStorage.getItem('twin.access_token')") is None
    request = urllib.request.Request(f"{web_server.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401, "the logged-out token still works on the server"
    assert _hooks(page)["errors"] == []
    page.close()
