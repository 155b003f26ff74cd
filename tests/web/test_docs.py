"""The pages and the API documentation under the server's Content-Security-Policy, in real Chromium.

The view (3D site, wall) must run with no inline script allowed and no violation reported; /docs
and /redoc must render from the server's own copies of Swagger UI and ReDoc, with no request
leaving the machine and nothing in the console.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import WebServer

# Every violation of the policy, kept where the test can read it (securitypolicyviolation events).
WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Watched:
    """A page with everything that went wrong on it and every address it asked for."""

    page: Page
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        """Return the policy violations the page reported."""
        found: list[str] = self.page.evaluate("window.__csp")
        return found


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A new page whose console errors, page errors, requests and CSP violations are recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    w = Watched(page)
    page.add_init_script(WATCH_CSP)
    page.on("console", lambda m: w.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: w.console.append(str(error)))
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("response", lambda r: w.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield w
    page.close()


def _local(urls: list[str]) -> list[str]:
    """Return the addresses that leave 127.0.0.1 (data: and blob: stay in the page)."""
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"]


def test_the_3d_view_runs_under_the_policy(watched: Watched, web_server: WebServer) -> None:
    page = watched.page
    page.goto(f"{web_server.url}/?lang=en")
    page.fill("input[name=username]", web_server.username)
    page.fill("input[name=password]", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin.buildings > 0 && window.__twin.firstFrameMs !== null", timeout=60_000)
    page.wait_for_function("() => window.__twin.models + window.__twin.modelsFailed > 0", timeout=60_000)
    page.wait_for_function("() => window.__twin.connection === 'live'", timeout=30_000)
    assert page.evaluate("window.__twin.modelsFailed") == 0
    assert watched.violations() == []
    assert watched.console == [], watched.failed
    assert _local(watched.requests) == []


def test_the_wall_runs_under_the_policy(watched: Watched, web_server: WebServer) -> None:
    page = watched.page
    page.goto(f"{web_server.url}/wall?lang=en")
    page.fill("input[name=username]", web_server.username)
    page.fill("input[name=password]", web_server.password)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__twin && window.__twin.page !== ''", timeout=30_000)
    page.wait_for_timeout(3000)
    assert watched.violations() == []
    assert watched.console == [], watched.failed


def test_swagger_ui_renders_the_operations_from_local_files(watched: Watched, web_server: WebServer) -> None:
    page = watched.page
    page.goto(f"{web_server.url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 30
    assert page.locator(".opblock-summary-path", has_text="/api/devices").count() > 0
    assert watched.violations() == []
    assert watched.console == [], watched.failed
    assert _local(watched.requests) == []


def test_redoc_renders_from_local_files(watched: Watched, web_server: WebServer) -> None:
    page = watched.page
    page.goto(f"{web_server.url}/redoc")
    page.wait_for_selector("[data-section-id]", timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.locator("[data-section-id^='tag/']").count() > 3
    assert page.get_by_text("/api/devices").count() > 0
    assert watched.violations() == []
    assert watched.console == [], watched.failed
    assert _local(watched.requests) == []


def test_the_real_server_sends_no_banner_and_the_headers(web_server: WebServer) -> None:
    with urllib.request.urlopen(f"{web_server.url}/", timeout=10) as answer:
        headers = {k.lower(): v for k, v in answer.headers.items()}
    assert "server" not in headers
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
