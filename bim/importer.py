"""The whole import of one file: the geometry in a child process, the structure here meanwhile.

The geometry starts first (:class:`bim.geometry_process.GeometryProcess`), so its parse and
tessellation run on one core while this process checks the file, reads the structure and hands
it to ``on_model`` on the other: the caller stores the spatial graph, and may commit it, before
the geometry is done. The GLBs replace ``glb_dir`` only after ``on_model`` returned and every
file is written; a file that fails to parse, or an ``on_model`` that raises, stops the child
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bim.geometry import GeometryResult
from bim.geometry_process import GeometryProcess, GeometrySource
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
    geometry: GeometrySource = GeometryProcess,
) -> tuple[BimModel, GeometryResult]:
    """Read the file at ``path`` and write its GLBs into ``glb_dir``, returning both results.

    ``on_model`` runs in the calling thread; ``progress`` is called from it and, for the
    geometry, from a relay thread, so it must be thread-safe. A geometry stage that fails as a
    whole does not raise: the result's ``error`` says why, and ``glb_dir`` is left as it was.
    """
    path = Path(path)
    running = geometry(path, glb_dir, georef, progress)
    try:
        model = read_model(open_ifc(path), path, progress=progress, georef=georef)
        if on_model is not None:
            on_model(model)
    except BaseException:
        running.cancel()
        raise
    return model, running.result()
