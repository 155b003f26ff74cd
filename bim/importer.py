"""The whole import of one file, parsed once: structure first, then geometry.

The structure is returned through ``on_model`` before tessellation starts, so the caller can
store the spatial graph and its devices while the (much slower) geometry is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bim.geometry import GeometryResult, write_glbs
from bim.model import BimGeoref, BimModel
from bim.reader import Progress, read_model
from bim.source import open_ifc


def import_ifc(
    path: Path | str,
    glb_dir: Path,
    *,
    progress: Progress | None = None,
    on_model: Callable[[BimModel], None] | None = None,
    georef: BimGeoref | None = None,
) -> tuple[BimModel, GeometryResult]:
    """Read the file at ``path`` and write its GLBs into ``glb_dir``, returning both results."""
    path = Path(path)
    model = open_ifc(path)
    bim = read_model(model, path, progress=progress, georef=georef)
    if on_model is not None:
        on_model(bim)
    geometry = write_glbs(model, glb_dir, offset=bim.georef.offset, progress=progress)
    return bim, geometry
