"""A real twin server (uvicorn, websockets) with the live ingest on, a small community, and tokens.

The server runs as ``twin serve`` in a subprocess against a private database and the session's
Mosquitto, so the tests speak to it only through its socket, as screens do, and can restart it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from realtime.specs import Profile
from tests.conftest import BrokerInfo
from tests.ingest.helpers import unique, write_profile
from twin.auth import users
from twin.auth.roles import Role
from twin.catalogue import DeviceKind
from twin.graph.devices import create_device
from twin.graph.places import create_building, create_floor, create_site, create_space
from twin.schemas import BuildingCreate, DeviceCreate, FloorCreate, Identifier, SiteCreate, SpaceCreate
from twin.services.system import accepts_connections, free_port
from twin.store.engine import make_engine, session_factory

PASSWORD = "hub-test-Passw0rd"


@dataclass
class Community:
    """Two floors of tower 3, a unit on each with two sensors; ids by name."""

    site: int = 0
    building: int = 0
    floors: dict[int, int] = field(default_factory=dict)
    units: dict[int, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)


def build(db_url: str, profile: Profile) -> Community:
    """Create the community and its accounts, as the system would."""
    c = Community()
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session, session.begin():
            c.site = create_site(session, SiteCreate(name="金色年华", origin_lat=25.07, origin_lon=102.72)).id
            c.building = create_building(session, BuildingCreate(site_id=c.site, name="3栋", code="3")).id
            for level in (1, 2):
                floor = create_floor(
                    session, FloorCreate(building_id=c.building, name=f"{level}F", level=level, elevation=3.0 * level)
                )
                c.floors[level] = floor.id
                unit = create_space(
                    session, SpaceCreate(floor_id=floor.id, name=f"{level}01室", kind="unit", address=f"3-1-{level}01")
                )
                c.units[level] = unit.id
                for n in range(2):
                    name = f"f{level}s{n}"
                    device = create_device(
                        session,
                        DeviceCreate(
                            place_id=unit.id,
                            kind=DeviceKind.ENV_SENSOR,
                            name=name,
                            identifiers=[Identifier(namespace=profile.namespace, value=name)],
                        ),
                    )
                    c.devices[name] = device.id
            users.add_user(session, "boss", PASSWORD)
            users.grant(session, "boss", Role.ADMIN, None, None)
            users.add_user(session, "walker", PASSWORD)
            users.grant(session, "walker", Role.INSPECTOR, c.floors[1], None)
    finally:
        engine.dispose()
    return c


@dataclass
class HubServer:
    """A running ``twin serve`` and how to reach, restart and stop it."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        """The live socket's URL."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "twin.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not accepts_connections("127.0.0.1", self.port):
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        ready = httpx.get(f"{self.http}/readyz", timeout=10)
        while ready.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            ready = httpx.get(f"{self.http}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text

    def stop(self) -> None:
        """Stop the server as an operator would (SIGTERM), waiting for it to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.process = None

    def token(self, username: str) -> str:
        """Log in and return an access token."""
        response = httpx.post(
            f"{self.http}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def metrics(self, token: str) -> str:
        """Return the Prometheus text of the server."""
        response = httpx.get(f"{self.http}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    """A vendor profile with a topic prefix of this test's own."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    return write_profile(folder)


@pytest.fixture
def community(db_url: str, profile: Profile) -> Community:
    """The two-floor community in this test's database."""
    return build(db_url, profile)


def server_env(db_url: str, broker: BrokerInfo, home: Path, profile: Profile, **extra: str) -> dict[str, str]:
    """Return the environment of a server with the ingest on, on this test's database and profile.

    ``db_url`` is the server's role (it owns nothing), as in production.
    """
    return {
        **os.environ,
        "TWIN_DATABASE_URL": db_url,
        "TWIN_MQTT_URL": broker.url,
        "TWIN_HOME": str(home),
        "TWIN_WEB_DIST": str(home / "dist"),
        "TWIN_INGEST": "true",
        "TWIN_INGEST_PROFILES": f'["{profile.source}"]',
        "TWIN_INGEST_CLIENT_ID": unique("hub-ingest"),
        **extra,
    }


ServerFactory = Callable[..., HubServer]


@pytest.fixture
def make_server(
    tmp_path: Path, app_db_url: str, mqtt_broker: BrokerInfo, profile: Profile, community: Community
) -> Iterator[ServerFactory]:
    """Start servers on the community; extra ``TWIN_*`` settings as keyword arguments; all stopped after."""
    started: list[HubServer] = []

    def start(**extra: str) -> HubServer:
        n = len(started)
        env = server_env(app_db_url, mqtt_broker, tmp_path / f"var{n}", profile, **extra)
        hub = HubServer(free_port(), env, tmp_path / f"server{n}.log")
        started.append(hub)
        hub.start()
        return hub

    try:
        yield start
    finally:
        for hub in started:
            hub.stop()


@pytest.fixture
def server(make_server: ServerFactory) -> HubServer:
    """A server on the community, with the ingest on."""
    return make_server()
