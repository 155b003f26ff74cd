"""A storm on the wall: one alarm for the gateway, and the number of devices it cut off beside it.

A gateway goes offline and the devices behind it fall silent: the rule engine raises one root
alarm for the gateway and groups every device's offline alarm under it. Here the storm is raised
through the store functions the engine uses (``raise_alarm`` with a parent), in this process, and
told to the running server's hub through the broker as another instance of the twin tells it (the
peer relay): a real server, store, broker and Chromium. The wall must count the storm once, in the
gateway's building, exactly as ``GET /api/alarms/counts`` counts it, show how many devices it cut
off, keep its count when one more child arrives live, and count nothing once the root is cleared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, Page

from realtime.hub.hub import Hub
from tests.conftest import BrokerInfo
from tests.ingest.helpers import Publisher
from tests.web.conftest import ARTIFACTS, WebServer, serve_scene
from tests.web.test_live import _call
from tests.web.test_wall import SIZES, _building_counts, _wall
from twin.alarms import AlarmSeverity, Occurrence, raise_alarm
from twin.events import EventBus
from twin.services import PostgresCluster
from twin.store.engine import make_engine, session_factory

ROOT_RULE = "网关离线 gateway offline"
CHILD_RULE = "设备离线 device offline"


@pytest.fixture(scope="module")
def storm_server(
    tmp_path_factory: pytest.TempPathFactory, postgis: PostgresCluster, mqtt_broker: BrokerInfo
) -> Iterator[tuple[WebServer, str]]:
    """The 2-tower scene, served by an instance that hears the other instances through the broker."""
    topic = f"twin/hub-storm-{os.getpid()}"
    folder = tmp_path_factory.mktemp("storm")
    with serve_scene(
        folder, postgis, mqtt_broker, 2, 3, 2, TWIN_HUB_PEERS="true", TWIN_HUB_PEERS_TOPIC=topic
    ) as server:
        yield server, topic


class OtherInstance:
    """Raises alarms as the rule engine of another twin instance would: store first, then the relay."""

    def __init__(self, server: WebServer, broker: BrokerInfo, topic: str) -> None:
        self.engine = make_engine(server.db_url)
        self.sessions = session_factory(self.engine)
        self.publisher = Publisher(broker, broker.login)
        hub = Hub()
        hub.forward = lambda site, items: self.publisher.send(f"{topic}/{site}", orjson.dumps(items))
        self.bus = EventBus()
        self.bus.subscribe(hub.registry)

    def raise_offline(self, device: dict[str, Any], rule: str, parent: tuple[str, str] | None = None) -> int:
        """Raise a device's offline alarm, grouped under ``parent`` (rule, subject) when given."""
        occurrence = Occurrence(
            rule, "offline", f"device:{device['id']}", device["path"], AlarmSeverity.MAJOR, datetime.now(UTC),
            device["id"], None, f"{device['kind']} offline", parent=parent,
        )  # fmt: skip
        with self.sessions() as session:
            self.bus.bind(session)
            with session.begin():
                alarm_id = raise_alarm(session, occurrence).alarm.id
        self.publisher.flush()
        return alarm_id

    def close(self) -> None:
        self.publisher.close()
        self.engine.dispose()


def _gateway_and_devices(server: WebServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the gateway with the most devices behind it, and those devices, from the server's store."""
    engine = make_engine(server.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT d.id, d.path::text, d.kind, r.target_device_id FROM relations r "
                "JOIN devices d ON d.id = r.source_device_id WHERE r.kind = 'via' ORDER BY d.id"
            ).all()
            behind: dict[int, list[dict[str, Any]]] = {}
            for device_id, path, kind, gateway in rows:
                behind.setdefault(int(gateway), []).append({"id": int(device_id), "path": path, "kind": kind})
            gateway_id = max(behind, key=lambda g: len(behind[g]))
            path, kind = conn.exec_driver_sql("SELECT path::text, kind FROM devices WHERE id = %s", (gateway_id,)).one()
    finally:
        engine.dispose()
    return {"id": gateway_id, "path": path, "kind": kind}, behind[gateway_id]


def _shown(page: Page) -> dict[str, tuple[int, int]]:
    """Each building card's alarm figure and the number on its storm line (0 without one)."""
    seen: dict[str, tuple[int, int]] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.counter')].map((card) => [
            card.dataset.building,
            [Number(card.querySelector('[data-figure=alarms] b').textContent),
             Number(card.querySelector('.storm')?.dataset.grouped ?? 0)],
        ]))"""
    )
    return {b: (alarms, grouped) for b, (alarms, grouped) in seen.items()}


def _until_card(page: Page, building: str, what: str, n: int, timeout: int = 15_000) -> None:
    """Wait until a building's card shows ``n`` alarms (``what="alarms"``) or ``n`` on its storm line."""
    page.wait_for_function(
        """([building, what, n]) => {
            const card = document.querySelector(`.counter[data-building='${building}']`);
            const shown = what === 'storm' ? card?.querySelector('.storm')?.dataset.grouped
                                           : card?.querySelector('[data-figure=alarms] b')?.textContent;
            return shown === String(n);
        }""",
        arg=[building, what, n],
        timeout=timeout,
    )


def _grouped_by_building(server: WebServer, site_id: int) -> dict[str, int]:
    counts = _call(server, "GET", f"/api/alarms/counts?under={site_id}")
    return {str(c["place_id"]): c["grouped"] for c in counts if c["level"] == "building"}


def _expected(server: WebServer, site_id: int, buildings: list[str]) -> dict[str, tuple[int, int]]:
    """What the cards must show: `/api/alarms/counts`' roots and grouped alarms per building."""
    counted, grouped = _building_counts(server, site_id), _grouped_by_building(server, site_id)
    return {b: (counted.get(b, 0), grouped.get(b, 0)) for b in buildings}


def test_a_storm_counts_once_on_the_wall_with_the_devices_it_cut_off(
    browser: Browser, storm_server: tuple[WebServer, str], mqtt_broker: BrokerInfo
) -> None:
    server, topic = storm_server
    site = _call(server, "GET", "/api/sites")["items"][0]
    scene = _call(server, "GET", f"/api/sites/{site['id']}/scene")
    buildings = [str(b["id"]) for b in scene["buildings"]]
    gateway, devices = _gateway_and_devices(server)
    assert len(devices) >= 3, "the generated scene has no gateway with devices behind it"
    home = next(b for b in buildings if f".{b}." in f".{gateway['path']}.")
    kinds = _call(server, "GET", "/api/catalogue")["device_kinds"]
    other = OtherInstance(server, mqtt_broker, topic)
    try:
        root = other.raise_offline(gateway, ROOT_RULE)
        for device in devices[:-1]:
            other.raise_offline(device, CHILD_RULE, parent=(ROOT_RULE, f"device:{gateway['id']}"))
        before = len(devices) - 1

        for lang, words in (("en", f"{kinds['gateway']['en']} offline · {before} devices unreachable"),
                            ("zh", f"{kinds['gateway']['zh']}离线 · {before} 台设备不可达")):  # fmt: skip
            page, failures = _wall(browser, server, SIZES[0], lang)
            _until_card(page, home, "storm", before, 30_000)
            # The storm is one alarm in the gateway's building, wherever its devices are, as the REST counts say.
            assert _shown(page) == _expected(server, site["id"], buildings)
            assert _shown(page)[home] == (1, before)
            ticker = page.locator(".ticker .item")
            assert ticker.count() == 1 and ticker.get_attribute("data-alarm") == str(root)
            assert words in ticker.inner_text()
            assert words.split(" · ")[1] in page.locator(f".counter[data-building='{home}'] .storm").inner_text()
            assert page.evaluate("window.__twin.alarms") == len(devices)  # the root and its children, held
            if lang == "en":
                assert failures == [] and page.evaluate("window.__twin.errors") == []
                page.close()

        # One more device falls silent, live: the storm grows, the count does not.
        other.raise_offline(devices[-1], CHILD_RULE, parent=(ROOT_RULE, f"device:{gateway['id']}"))
        _until_card(page, home, "storm", len(devices))
        assert page.evaluate("window.__twin.alarms") == len(devices) + 1
        assert _shown(page) == _expected(server, site["id"], buildings)
        assert _shown(page)[home] == (1, len(devices))
        assert f"{len(devices)} 台设备不可达" in page.locator(".ticker").inner_text()
        assert page.locator(".ticker .item").count() == 1
        page.screenshot(path=str(ARTIFACTS / "web-wall-storm.png"), timeout=60_000)

        # The gateway is back (cleared by hand here): the storm is counted nowhere, here as by REST.
        _call(server, "POST", f"/api/alarms/{root}/clear", {})
        _until_card(page, home, "alarms", 0)
        assert _shown(page) == _expected(server, site["id"], buildings) == {b: (0, 0) for b in buildings}
        assert failures == [] and page.evaluate("window.__twin.errors") == []
        page.close()
    finally:
        other.close()
