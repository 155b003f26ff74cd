"""A small generated scene (2 towers × 3 floors × 2 units) with the demo's rules and plans, written once."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bim.generate import write_ifc
from gis.generate import write_layers
from twin.auth.pii import PiiKey
from twin.imports import ImporterRegistry
from twin.scenes import Community, GenerateSpec, Scene, load_scene, plan_community
from twin.scenes.generate import GenerateReport, Writers, generate_scene
from twin.scenes.load import LoadReport, load
from twin.services import PostgresCluster
from twin.store.engine import make_engine

SPEC = GenerateSpec(buildings=2, floors=3, units_per_floor=2, seed=7)
LAST = "2026-06"
_databases = itertools.count()
ROOT = Path(__file__).resolve().parents[2]
WRITERS = Writers(ifc=lambda c, p: write_ifc(c, p).counts, gis=lambda c, p: write_layers(c, p).counts)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scene, Community, GenerateReport]:
    """Generate the small scene with the real IFC and GIS writers; return it parsed, and its plan."""
    folder = tmp_path_factory.mktemp("scene") / "small"
    folder.mkdir()
    write_demo_settings(folder, SPEC)
    report = generate_scene(folder, SPEC, WRITERS, last_period=LAST)
    scene = load_scene(folder)
    return scene, plan_community(scene.site, SPEC), report


def generated(scene: Scene, name: str) -> Path:
    """Return a file of the scene's generated folder."""
    return scene.root / "generated" / name


def write_demo_settings(folder: Path, spec: GenerateSpec) -> None:
    """Write the demo's scene.toml (its alarm rules and inspection plans) and alarms.toml, sized to ``spec``."""
    demo = ROOT / "scenes" / "demo"
    text = (demo / "scene.toml").read_text(encoding="utf-8")
    for key in ("buildings", "floors", "units_per_floor", "seed"):
        text = re.sub(rf"^{key} = \d+$", f"{key} = {getattr(spec, key)}", text, count=1, flags=re.M)
    text = text.replace('profiles = ["../profiles"]', f'profiles = ["{ROOT / "scenes" / "profiles"}"]')
    (folder / "scene.toml").write_text(text, encoding="utf-8")
    shutil.copy(demo / "alarms.toml", folder / "alarms.toml")


@dataclass(frozen=True)
class Loaded:
    """The small scene loaded once into a database of its own: where, and the first load's report."""

    db_url: str
    first: LoadReport
    home: Path

    def load_again(self, scene: Scene) -> LoadReport:
        """Load the scene again with the same key and assets."""
        return load_into(scene, self.db_url, self.home)


def load_into(scene: Scene, db_url: str, home: Path) -> LoadReport:
    """Load a scene the way ``twin scene load`` does."""
    from bim.store import IfcImporter
    from gis.store import GisImporter
    from realtime.rules.load import vocabulary

    engine = make_engine(db_url)
    registry = ImporterRegistry([IfcImporter(), GisImporter()])
    try:
        key = PiiKey.from_file(home / "pii.key")
        return load(scene, engine, registry, home / "assets", key, "test", quantities=vocabulary())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def loaded(
    small: tuple[Scene, Community, GenerateReport], postgis: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """The small scene loaded once for the tests of one module."""
    name = f"twin_scene{os.getpid()}_{next(_databases)}"
    postgis.ensure_database(name, template="twin_template")
    home = tmp_path_factory.mktemp("home")
    url = postgis.url(name)
    yield Loaded(url, load_into(small[0], url, home), home)
    postgis.drop_database(name)
