"""The finance clerk's journey in the Chinese UI, against the real server, hub, store and Chromium.

The clerk (role finance on the site) finds a unit, switches the view to the billing layer, and
every unit of that floor is painted the catalogue's colour of the standing GET /api/billing/status
gives it. The unit's residents show masked (张*丰, 138****1234) as the API sends them; one reveal,
with a reason, shows them whole, and the audit log then holds exactly that one read: the clerk as
actor, the unit, the reason. A viewer's panel has no residents and no reveal, and the API refuses
a viewer's and a responder's reveal.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.ingest.helpers import query
from tests.web.conftest import ARTIFACTS, PASSWORD, WebServer
from tests.web.test_operations import _call, _status, _token, _user

FINANCE = "web-finance"
VIEWER = "web-viewer"
RESPONDER = "web-fin-responder"
QUIET = "#2b3a52"
"""The billing layer's fill for a unit it leaves uncoloured (web/src/layers.ts)."""
UNCOLOURED = {"unpaid", "no_bills"}
"""Standings that are no concern (not yet due, never billed): the layer paints them quiet."""
NAME, PHONE = "张三丰", "13812341234"
NAME_MASKED, PHONE_MASKED = "张*丰", "138****1234"
REASON = "催缴欠费，需联系业主"

# Each room of the focused floor whose painted colour differs from the expected one, as [id, painted, expected].
MISMATCHES_JS = """(expected) => {
  const painted = window.__twin.spaceColours ? window.__twin.spaceColours() : {};
  return Object.entries(expected).filter(([id, c]) => painted[id] !== c).map(([id, c]) => [id, painted[id], c]);
}"""


def _sign_in(browser: Browser, server: WebServer, username: str) -> Page:
    """Sign in to the Chinese main view and wait for the live socket."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server.url}/?lang=zh")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin && window.__twin.connection === 'live'", timeout=30_000)
    return page


def _open_unit(page: Page, unit: dict[str, Any], floor_id: int) -> None:
    """Find the unit by its address, as a clerk would, and wait for its floor and its panel."""
    page.fill(".search-input", unit["address"])
    page.press(".search-input", "Enter")
    page.wait_for_function(
        "([floor, panel]) => window.__twin.floor === floor && window.__twin.panel === panel",
        arg=[str(floor_id), f"space:{unit['unit_id']}"],
        timeout=30_000,
    )


def _billed_floor(server: WebServer) -> tuple[int, list[dict[str, Any]]]:
    """Return the floor with the most kinds of standing among its units, and the API's standing of each."""
    site_id = _call(server, "GET", "/api/sites")["items"][0]["id"]
    scene = _call(server, "GET", f"/api/sites/{site_id}/scene")
    best: tuple[int, list[dict[str, Any]]] | None = None
    for building in scene["buildings"]:
        for floor in building["floors"]:
            units = _call(server, "GET", f"/api/billing/status?under={floor['id']}")["items"]
            if units and (best is None or len({u["status"] for u in units}) > len({u["status"] for u in best[1]})):
                best = (int(floor["id"]), units)
    assert best is not None, "the generated scene has no billed units"
    return best


def _partly_pay(server: WebServer, site_id: int, floor_id: int, units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bill a unit in good standing for next month and pay half, so the floor shows a partly paid unit too."""
    unit = next(u for u in units if u["status"] in ("paid", "unpaid", "no_bills"))
    due = date.today() + timedelta(days=40)
    charge = {
        "site_id": site_id,
        "reference": f"FIN-JOURNEY-{unit['unit_id']}",
        "unit_id": unit["unit_id"],
        "period": f"{due:%Y-%m}",
        "item": "property_fee",
        "amount_due": "300.00",
        "due_date": due.isoformat(),
    }
    charge_id = _call(server, "POST", "/api/billing/charges", charge)["id"]
    payment = {
        "reference": f"FIN-JOURNEY-PAY-{unit['unit_id']}",
        "amount": "120.00",
        "paid_on": date.today().isoformat(),
    }
    _call(server, "POST", f"/api/billing/charges/{charge_id}/payments", payment)
    items: list[dict[str, Any]] = _call(server, "GET", f"/api/billing/status?under={floor_id}")["items"]
    return items


def test_the_finance_clerk_sees_billing_colours_and_reveals_residents_once(
    browser: Browser, web_server: WebServer
) -> None:
    site_id = _call(web_server, "GET", "/api/sites")["items"][0]["id"]
    for username, role in ((FINANCE, "finance"), (VIEWER, "viewer"), (RESPONDER, "responder")):
        _user(web_server, username, role, site_id)
    floor_id, units = _billed_floor(web_server)
    units = _partly_pay(web_server, site_id, floor_id, units)
    assert "partly_paid" in {u["status"] for u in units}
    colours = _call(web_server, "GET", "/api/catalogue")["billing_status"]
    expected = {
        str(u["unit_id"]): QUIET if u["status"] in UNCOLOURED else colours[u["status"]]["colour"] for u in units
    }
    unit = units[0]
    residents = f"/api/units/{unit['unit_id']}/residents"
    _call(web_server, "POST", residents, {"name": NAME, "phone": PHONE, "relation": "owner"})
    finance_token = _token(web_server, FINANCE, PASSWORD)
    masked = _call(web_server, "GET", residents, token=finance_token)
    assert masked["masked"] and {"name": NAME_MASKED, "phone": PHONE_MASKED} in [
        {"name": r["name"], "phone": r["phone"]} for r in masked["items"]
    ]

    clerk = _sign_in(browser, web_server, FINANCE)
    _open_unit(clerk, unit, floor_id)
    clerk.locator("#side select").first.select_option("billing")
    # The hub's snapshot may still be on its way: wait for it, then name each unit painted otherwise.
    with contextlib.suppress(PlaywrightTimeout):
        clerk.wait_for_function(f"(expected) => ({MISMATCHES_JS})(expected).length === 0", arg=expected, timeout=15_000)
    assert clerk.evaluate(MISMATCHES_JS, expected) == [], "units painted otherwise than their API standing"

    # The residents, masked exactly as the API lists them, and nothing unmasked on the page.
    listed = clerk.locator(".panel ul.residents[data-masked=true]")
    listed.wait_for(timeout=15_000)
    assert "住户信息" in clerk.locator(".panel").inner_text()
    shown = [(li.locator(".name").inner_text(), li.locator(".phone").inner_text()) for li in listed.locator("li").all()]
    assert shown == [(r["name"], r["phone"] or "") for r in masked["items"]]
    assert NAME not in clerk.content() and PHONE not in clerk.content()
    assert query(web_server.db_url, "SELECT count(*) FROM audit_log WHERE action = 'pii.read'") == [(0,)]

    # One reveal, with a reason: the whole values, and one audit entry naming the clerk and why.
    reveal = clerk.locator(".panel button[data-action=reveal]")
    assert reveal.is_disabled(), "a reveal without a reason is offered"
    clerk.fill(".panel input.reveal-reason", REASON)
    reveal.click()
    whole = clerk.locator(".panel ul.residents[data-masked=false]")
    whole.wait_for(timeout=15_000)
    assert f"{NAME} {PHONE}" in whole.inner_text()
    assert clerk.locator(".panel button[data-action=reveal]").count() == 0
    clerk.screenshot(path=str(ARTIFACTS / "web-finance-revealed.png"), timeout=60_000)
    entries = query(
        web_server.db_url, "SELECT actor, object_kind, object_id, after FROM audit_log WHERE action = 'pii.read'"
    )
    assert len(entries) == 1, entries
    [(actor, kind, object_id, after)] = entries
    assert (actor, kind, object_id) == (FINANCE, "unit", str(unit["unit_id"]))
    assert after["reason"] == REASON
    assert clerk.evaluate("window.__twin.errors") == []
    clerk.close()

    # A viewer's panel shows no residents and no reveal; the API refuses a viewer's and a responder's reveal.
    viewer = _sign_in(browser, web_server, VIEWER)
    _open_unit(viewer, unit, floor_id)
    viewer.locator(".panel h3").first.wait_for(timeout=15_000)
    assert viewer.locator(".panel .residents-section, .panel button[data-action=reveal]").count() == 0
    viewer.close()
    unmask = f"{residents}?reveal=true&reason={urllib.parse.quote(REASON)}"
    assert _status(web_server, unmask, _token(web_server, VIEWER, PASSWORD)) == 403
    assert _status(web_server, unmask, _token(web_server, RESPONDER, PASSWORD)) == 404
    assert query(web_server.db_url, "SELECT count(*) FROM audit_log WHERE action = 'pii.read'") == [(1,)]
