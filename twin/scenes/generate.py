"""Generate a scene folder: plan the community, then let each writer put its part under generated/.

The IFC and GIS writers live in ``bim`` and ``gis``; the composition root hands them in as
callables, so this module (in ``twin``) orchestrates without importing either. Everything is
written into a scratch folder first and swapped in at the end: a failed generation leaves the
previous files as they were.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from twin.scenes.data import GIS_DIR, IFC_FILE, DataSummary, scene_toml, write_data
from twin.scenes.layout import plan_community
from twin.scenes.model import GenerateSpec, Scene, SceneError, SiteSpec
from twin.scenes.parse import SCENE_FILE, load_scene
from twin.scenes.plan import Community

Writer = Callable[[Community, Path], Mapping[str, int]]
"""Write one part of a community to a path, returning counts of what was written."""
DEFAULT_SITE = SiteSpec("阳光花园 Sunny Garden", 30.2741, 120.1551, 10.0, "EPSG:4549")


@dataclass(frozen=True, slots=True)
class Writers:
    """The IFC and GIS writers, from ``bim.generate`` and ``gis.generate``."""

    ifc: Writer
    gis: Writer


@dataclass(frozen=True, slots=True)
class GenerateReport:
    """What a generation wrote."""

    folder: Path
    devices: int
    units: int
    ifc: Mapping[str, int]
    gis: Mapping[str, int]
    data: DataSummary


def generate_scene(
    folder: Path, spec: GenerateSpec, writers: Writers, *, last_period: str, site: SiteSpec | None = None
) -> GenerateReport:
    """Write a community into ``folder/generated`` (and a scene.toml when the folder has none)."""
    scene_path = folder / SCENE_FILE
    if site is None:
        site = load_scene(folder).site if scene_path.is_file() else DEFAULT_SITE
    community = plan_community(site, spec)
    target = folder / "generated"
    scratch = folder / ".generated.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        ifc = writers.ifc(community, scratch / IFC_FILE)
        gis = writers.gis(community, scratch / GIS_DIR)
        data = write_data(community, scratch, last_period)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    old = folder / ".generated.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    scratch.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    if not scene_path.is_file():
        profiles = Path(__file__).resolve().parents[2] / "scenes" / "profiles"
        relative = os.path.relpath(profiles, folder.resolve())
        scene_path.write_text(scene_toml(site, spec, relative), encoding="utf-8")
    return GenerateReport(
        folder, len(community.devices) + len(community.pois), sum(1 for _ in community.units()), ifc, gis, data
    )


def ensure_generated(scene: Scene, writers: Writers, *, last_period: str) -> GenerateReport | None:
    """Generate a scene's files on first use: when any input is missing and the scene says how."""
    if not scene.missing():
        return None
    if scene.generate is None:
        listed = ", ".join(str(p) for p in scene.missing()[:3])
        raise SceneError(f"{scene.root}: input files missing ({listed})", "add them, or a [generate] table")
    return generate_scene(scene.root, scene.generate, writers, last_period=last_period, site=scene.site)


def community_of(scene: Scene) -> Community | None:
    """Return the plan of a generated scene (for GlobalIds of its units), or None for a hand-made one."""
    return plan_community(scene.site, scene.generate) if scene.generate is not None else None
