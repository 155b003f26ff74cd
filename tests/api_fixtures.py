"""API fixtures for every test folder: a twin server on a private database, logged in as someone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BrokerInfo
from tests.ingest.helpers import Publisher
from twin.app import create_app
from twin.auth import users
from twin.auth.roles import Role
from twin.settings import Settings
from twin.store.engine import one_off_engine, session_factory

ADMIN_PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path, mqtt_broker: BrokerInfo) -> Settings:
    """Settings pointing at the test broker, with a private home."""
    return Settings(home=tmp_path / "var", mqtt_url=mqtt_broker.url, web_dist=tmp_path / "dist")


MakeUser = Callable[..., None]


@pytest.fixture
def make_user(db_url: str) -> MakeUser:
    """Create an account with grants, as the system (what `twin user add` does)."""

    def make(
        username: str,
        password: str | None = ADMIN_PASSWORD,
        grants: list[tuple[Role, int | None, list[str] | None]] = (),
        wall_display: bool = False,
    ) -> None:  # type: ignore[assignment]
        with one_off_engine(db_url) as engine, session_factory(engine)() as session, session.begin():
            users.add_user(session, username, password, wall_display=wall_display)
            for role, place_id, kinds in grants:
                users.grant(session, username, role, place_id, kinds)

    return make


def login(client: TestClient, username: str, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """Log in and return the Authorization header."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def postgis_conninfo(db_url: str) -> str:
    """The test database as a libpq connection string, for looking under the application."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    return f"host={url.host} port={url.port} user={url.username} password={url.password} dbname={url.database}"


@pytest.fixture
def app_factory(settings: Settings, app_db_url: str) -> Callable[[], TestClient]:
    """Make clients of one server on a fresh, migrated database, connected as the role that owns nothing."""
    app = create_app(settings, db_url=app_db_url)
    return lambda: TestClient(app)


@pytest.fixture
def anon_client(app_factory: Callable[[], TestClient]) -> Iterator[TestClient]:
    """A client that has not logged in."""
    with app_factory() as test_client:
        yield test_client


@pytest.fixture
def client(app_factory: Callable[[], TestClient], make_user: MakeUser) -> Iterator[TestClient]:
    """A client logged in as an administrator with a grant on everything."""
    make_user("root", grants=[(Role.ADMIN, None, None)])
    with app_factory() as test_client:
        test_client.headers.update(login(test_client, "root"))
        yield test_client


@pytest.fixture
def publisher(mqtt_broker: BrokerInfo) -> Iterator[Publisher]:
    """A device-side MQTT publisher at QoS 1 on the session's broker."""
    pub = Publisher(mqtt_broker)
    try:
        yield pub
    finally:
        pub.close()
