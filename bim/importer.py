"""The whole import of one file, parsed once, the structure read while the geometry runs.

Tessellation happens in ifcopenshell's C++ threads, which leave the interpreter free: the
structure, property sets and devices are read meanwhile on a Python thread and handed to
``on_model`` as soon as they are ready, so the caller can store the spatial graph before the
geometry is done. The GLB folder is swapped in only once the structure has been read too: a
failed import writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bim.frame import Frame
from bim.geometry import GeometryResult, write_glbs
from bim.model import BimGeoref, BimModel
from bim.reader import Progress, check_model, locate, read_model
from bim.source import open_ifc


def import_ifc(
    path: Path | str,
    glb_dir: Path,
    *,
    progress: Progress | None = None,
    on_model: Callable[[BimModel], None] | None = None,
    georef: BimGeoref | None = None,
) -> tuple[BimModel, GeometryResult]:
    """Read the file at ``path`` and write its GLBs into ``glb_dir``, returning both results.

    ``progress`` and ``on_model`` are called from the structure thread as well as the caller's:
    they must be thread-safe (a rich progress bar and a queue to the event loop both are).
    """
    path = Path(path)
    model = open_ifc(path)
    check_model(model, path)
    offset = locate(model, Frame(model), georef).offset

    def structure() -> BimModel:
        bim = read_model(model, path, progress=progress, georef=georef)
        if on_model is not None:
            on_model(bim)
        return bim

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bim-structure") as pool:
        pending = pool.submit(structure)
        geometry = write_glbs(model, glb_dir, offset=offset, progress=progress, before_swap=pending.result)
        return pending.result(), geometry
