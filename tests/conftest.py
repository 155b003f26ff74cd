"""Session fixtures: a throw-away PostGIS cluster and Mosquitto broker, real, on free ports.

Nothing here is a mock. Each test that needs a database gets its own, cloned from a migrated
template (a file copy inside PostgreSQL, a fraction of a second), so tests never see each
other's rows. Without the server binaries a test skips with the reason, except under CI=true,
where a missing service is a failure: CI must prove the real thing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from twin.errors import ServiceError
from twin.services import MosquittoBroker, PostgresCluster
from twin.services.broker_auth import SIMULATOR, TWIN
from twin.services.system import free_port

pytest_plugins = ["tests.api_fixtures"]

_counter = itertools.count()


def _unavailable(what: str, exc: Exception) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true: {exc}")
    pytest.skip(f"{what} unavailable: {exc}")


@pytest.fixture(scope="session")
def service_root() -> Iterator[Path]:
    """A world-traversable temporary folder, so service users (postgres, mosquitto) can enter it."""
    root = Path(tempfile.mkdtemp(prefix="twin-test-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def audit_seal_files(service_root: Path) -> Iterator[Path]:
    """One audit key and checkpoint file for every server, CLI and session of the run, as in one installation.

    Checkpoints name their database, so the many test databases share the file without mixing.
    """
    from twin.settings import get_settings

    folder = service_root / "audit"
    saved = {name: os.environ.get(name) for name in ("TWIN_AUDIT_KEY_FILE", "TWIN_AUDIT_CHECKPOINT_FILE")}
    os.environ["TWIN_AUDIT_KEY_FILE"] = str(folder / "audit.key")
    os.environ["TWIN_AUDIT_CHECKPOINT_FILE"] = str(folder / "audit-checkpoints.jsonl")
    get_settings.cache_clear()
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()


@dataclass(frozen=True)
class BrokerInfo:
    """Where the test broker listens, the twin's credential there, and the handle to stop or kill it mid-test.

    The broker refuses anonymous clients, so every test client logs in: as the twin (``login``),
    or as the simulator (``simulator``) where the simulator's own narrower rights are the point.
    """

    host: str
    port: int
    broker: MosquittoBroker
    username: str
    password: str

    @property
    def url(self) -> str:
        """The broker URL as the settings spell it, with the twin's credential."""
        return self.broker.url

    @property
    def login(self) -> dict[str, str]:
        """The twin's credential as BrokerSettings' keyword arguments."""
        return {"username": self.username, "password": self.password}

    @property
    def simulator(self) -> dict[str, str]:
        """The simulator's credential as BrokerSettings' keyword arguments."""
        found = self.broker.credentials.login(SIMULATOR)
        assert found is not None
        return {"username": found[0], "password": found[1]}


@pytest.fixture(scope="session")
def mqtt_broker(service_root: Path) -> Iterator[BrokerInfo]:
    """A real Mosquitto on a free port, with persistence and unbounded queues."""
    broker = MosquittoBroker(service_root / "mqtt", free_port())
    try:
        broker.start()
    except ServiceError as exc:
        _unavailable("Mosquitto", exc)
    login = broker.credentials.login(TWIN)
    assert login is not None
    yield BrokerInfo(broker.host, broker.port, broker, *login)
    broker.stop()


@pytest.fixture(scope="session")
def postgis(service_root: Path) -> Iterator[PostgresCluster]:
    """A real PostgreSQL + PostGIS cluster on a free port, with the migrated template database."""
    cluster = PostgresCluster(service_root / "pg" / "data", free_port(), database="twin_template", fast_and_unsafe=True)
    (service_root / "pg").mkdir()
    (service_root / "pg").chmod(0o755)
    try:
        cluster.start()
    except ServiceError as exc:
        _unavailable("PostgreSQL with PostGIS", exc)
    from twin.db import upgrade
    from twin.services.postgres import APP_ROLE

    upgrade(cluster.url("twin_template"), app_role=APP_ROLE)
    yield cluster
    cluster.stop()


@pytest.fixture
def db_url(postgis: PostgresCluster) -> Iterator[str]:
    """A fresh database, migrated to head, private to this test: the owner's (superuser's) URL."""
    name = f"twin_t{os.getpid()}_{next(_counter)}"
    postgis.ensure_database(name, template="twin_template")
    yield postgis.url(name)
    postgis.drop_database(name)


@pytest.fixture
def app_db_url(db_url: str, postgis: PostgresCluster) -> str:
    """The same database as the server's role, which owns nothing (the template's grants are cloned with it)."""
    from sqlalchemy.engine import make_url

    return postgis.app_url(make_url(db_url).database)
