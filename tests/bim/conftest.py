"""Read each shared IFC file once per session: parsing is cheap, but the bim tests read them often."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bim import BimModel, GeometryResult, read_ifc, write_glbs
from tests.shared import shared_file

IFC_FILES = (
    "AC20-FZK-Haus.ifc",
    "Duplex_A_20110907_georeferenced.ifc",
    "Duplex_Electrical_20121207.ifc",
    "Office_A_20110811.ifc",
    "PCERT_Building-Architecture_IFC4.ifc",
    "PCERT_Building-Hvac_IFC4.ifc",
    "geographic-referencing-utm_IFC4X3.ifc",
)


@pytest.fixture(scope="session")
def _models() -> dict[str, BimModel]:
    return {}


@pytest.fixture
def bim_model(_models: dict[str, BimModel]) -> Callable[[str], BimModel]:
    """Return a reader of shared IFC files that parses each file at most once per session."""

    def read(name: str) -> BimModel:
        path: Path = shared_file(f"ifc/{name}")
        if name not in _models:
            _models[name] = read_ifc(path)
        return _models[name]

    return read


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeometryResult]:
    """Tessellate the largest shared file once, in this process: the slowest thing the bim tests do."""
    path = shared_file("ifc/Office_A_20110811.ifc")
    return path, write_glbs(path, tmp_path_factory.mktemp("office") / "glb")
