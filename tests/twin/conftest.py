"""A twin server on a private database, driven through the real ASGI stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BrokerInfo
from twin.app import create_app
from twin.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, mqtt_broker: BrokerInfo) -> Settings:
    """Settings pointing at the test broker, with a private home."""
    return Settings(home=tmp_path / "var", mqtt_url=mqtt_broker.url, web_dist=tmp_path / "dist")


@pytest.fixture
def client(settings: Settings, db_url: str) -> Iterator[TestClient]:
    """A client of a server on a fresh, migrated database."""
    app = create_app(settings, db_url=db_url)
    with TestClient(app) as test_client:
        yield test_client
