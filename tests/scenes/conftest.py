"""A small generated scene (2 towers × 3 floors × 2 units), written once for the whole folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bim.generate import write_ifc
from gis.generate import write_layers
from twin.scenes import Community, GenerateSpec, Scene, load_scene, plan_community
from twin.scenes.generate import GenerateReport, Writers, generate_scene

SPEC = GenerateSpec(buildings=2, floors=3, units_per_floor=2, seed=7)
LAST = "2026-06"
WRITERS = Writers(ifc=lambda c, p: write_ifc(c, p).counts, gis=lambda c, p: write_layers(c, p).counts)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scene, Community, GenerateReport]:
    """Generate the small scene with the real IFC and GIS writers; return it parsed, and its plan."""
    folder = tmp_path_factory.mktemp("scene") / "small"
    folder.mkdir()
    report = generate_scene(folder, SPEC, WRITERS, last_period=LAST)
    scene = load_scene(folder)
    return scene, plan_community(scene.site, SPEC), report


def generated(scene: Scene, name: str) -> Path:
    """Return a file of the scene's generated folder."""
    return scene.root / "generated" / name
