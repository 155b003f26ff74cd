"""Fixtures of the security tests: the two-building world on a private database, as the global administrator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.security.world import World, build_world
from twin.store.engine import make_engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's database, for what the system does outside the API."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def world(client: TestClient, engine: Engine) -> World:
    """Build the two-building world through the API (as root, the global administrator)."""
    return build_world(client, engine)
