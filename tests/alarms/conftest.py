"""A small community with devices for the alarm tests, built as the system would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.alarms.scenes import write_scene
from tests.ingest.helpers import Graph, add_device, build_graph
from twin.catalogue import DeviceKind
from twin.scenes import Scene
from twin.store.engine import make_engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def graph(db_url: str) -> Graph:
    """Site, building 3, floor 18, unit 3-2-1801 with a smoke detector, a pressure sensor and a gateway."""
    g = build_graph(db_url)
    gw = add_device(db_url, g, "GW-1", DeviceKind.GATEWAY, ("t", "gw1"))
    add_device(db_url, g, "SD-1", DeviceKind.SMOKE_DETECTOR, ("t", "sd1"), via=gw)
    add_device(db_url, g, "SD-2", DeviceKind.SMOKE_DETECTOR, ("t", "sd2"), via=gw)
    add_device(db_url, g, "PS-1", DeviceKind.PRESSURE_SENSOR, ("t", "ps1"))
    return g


@pytest.fixture(scope="session")
def incident_scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """The small generated scene with the demo's rules (no hold times), generated once."""
    folder = tmp_path_factory.mktemp("incidents") / "incidents"
    folder.mkdir()
    return write_scene(folder)
