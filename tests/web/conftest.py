"""A real twin server on a small generated scene, and Debian's Chromium to look at its web view.

The browser is the system's (`/usr/bin/chromium`): nothing is downloaded. Without it the web
tests skip with the reason, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.conftest import BrokerInfo
from tests.serving import served
from twin.services import PostgresCluster

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "web-test-Passw0rd"
BROWSER_ARGS = [
    "--no-sandbox",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class WebServer:
    """Where the test server listens and how to sign in to it."""

    url: str
    username: str
    password: str
    db_url: str = ""
    """The server's database, for tests that check what the store holds after a journey."""


def _need(condition: bool, reason: str) -> None:
    """Skip for a missing prerequisite on a developer's machine; fail under CI, which must have it."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run([sys.executable, "-m", "twin.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    assert done.returncode == 0, f"twin {' '.join(args)} failed:\n{log.read_text(errors='replace')[-3000:]}"


def _built_front_end() -> None:
    """Build web/dist when it is missing, since the server serves the built files."""
    if (DIST / "index.html").is_file():
        return
    npm = shutil.which("npm")
    _need(npm is not None and (ROOT / "web" / "node_modules").is_dir(), "web/dist is not built and npm is missing")
    subprocess.run([str(npm), "run", "build"], cwd=ROOT / "web", check=True, capture_output=True)


@contextmanager
def serve_scene(
    folder: Path,
    postgis: PostgresCluster,
    mqtt_broker: BrokerInfo,
    buildings: int,
    floors: int,
    units_per_floor: int,
    **settings: str,
) -> Iterator[WebServer]:
    """Generate and load a scene of that size into a fresh database, then serve it with the built front end.

    The live ingest runs in the server, on the session's broker, so readings published the way
    devices publish them reach the pages through the hub. ``settings`` are more environment
    variables of the server (``TWIN_HUB_PEERS="true"``).
    """
    _need(CHROMIUM.is_file(), f"{CHROMIUM} is missing (apt-get install chromium)")
    _built_front_end()
    database = f"twin_web_{os.getpid()}_{folder.name}"
    postgis.ensure_database(database, template="twin_template")
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": postgis.url(database),
        "TWIN_MQTT_URL": mqtt_broker.url,
        "TWIN_HOME": str(folder / "var"),
        "TWIN_WEB_DIST": str(DIST),
        "TWIN_INGEST": "true",
        "TWIN_INGEST_PROFILES": json.dumps([str(ROOT / "scenes" / "profiles")]),
        # The broker keeps a session per client id: each server of the run gets its own.
        "TWIN_INGEST_CLIENT_ID": f"twin-web-{os.getpid()}-{database}-{time.monotonic_ns()}",
        **settings,
    }
    log = folder / "server.log"
    scene = folder / "scene"
    size = ["--buildings", str(buildings), "--floors", str(floors), "--units-per-floor", str(units_per_floor)]
    _run(["scene", "generate", str(scene), *size], env, log)
    _run(["scene", "load", str(scene)], env, log)
    _run(["user", "add", "webadmin", "--role", "admin", "--password", PASSWORD], env, log)
    try:
        with served(env, log) as port:
            yield WebServer(f"http://127.0.0.1:{port}", "webadmin", PASSWORD, postgis.url(database))
    finally:
        postgis.drop_database(database)


@pytest.fixture(scope="module")
def web_server(
    tmp_path_factory: pytest.TempPathFactory, postgis: PostgresCluster, mqtt_broker: BrokerInfo
) -> Iterator[WebServer]:
    """A 2-tower scene of 3 floors, served: what most web tests look at."""
    with serve_scene(tmp_path_factory.mktemp("web"), postgis, mqtt_broker, 2, 3, 2) as server:
        yield server


@pytest.fixture(scope="module")
def browser(web_server: WebServer) -> Iterator[Browser]:
    """Debian's Chromium, headless, with software WebGL."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


NETWORK_LOG = "Failed to load resource:"
"""Chromium's own line for every 4xx answer: a page that expects one (an invalid emergency key)
says so itself, and a route the server lacks is logged by the view's client (``ApiError``)."""


@pytest.fixture(autouse=True)
def page_errors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail a browser test on any console error or uncaught error of any page it opened.

    Every page a test opens with ``browser.new_page`` is watched, so a view that swallows a
    missing route or field into an empty answer, but logs it, fails the test that shows it.
    """
    errors: list[str] = []
    if "browser" not in request.fixturenames:
        yield errors
        return
    browser: Browser = request.getfixturevalue("browser")
    opened = browser.new_page

    def watched(**kwargs: Any) -> Page:
        page = opened(**kwargs)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error" and not message.text.startswith(NETWORK_LOG):
                errors.append(f"console.error on {page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: errors.append(f"uncaught on {page.url}: {error}"))
        return page

    monkeypatch.setattr(browser, "new_page", watched)
    yield errors
    # A test marked as failing for a known gap has failed on it already; the rest must be clean.
    if request.node.get_closest_marker("xfail") is None:
        assert errors == [], "the pages logged errors:\n" + "\n".join(errors)
