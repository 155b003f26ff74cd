# mypy: disable-error-code="no-untyped-call"
"""Tessellate a model into one GLB per storey (and one for site-level elements).

Tessellation (:func:`tessellate`) and writing (:func:`write_parts`) are apart so that several
processes can each tessellate a share of the elements and one writes the files from all their
parts (:mod:`bim.geometry_process`). Each element becomes a node whose ``extras`` carry its
``globalId`` and ``ifcClass``; elements that share a representation share one mesh. Files are
written into a temporary sibling folder and swapped in only when every storey is written, so a
failed run leaves the previous geometry in place.

Axes: IFC is Z-up, glTF is Y-up. A world point (x, y, z) of :func:`bim.reader.read_ifc` becomes
(x, z, -y) in the GLB; the swap is folded into each node's matrix, so meshes stay in the
element's own coordinates and instancing survives.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import ifcopenshell
import ifcopenshell.geom
import numpy as np

from bim.frame import Entity, storey_of
from bim.glb import GlbBuilder, Primitive, Rgba
from bim.model import Point3
from bim.source import open_ifc

SKIPPED_CLASSES = ("IfcOpeningElement", "IfcSpace")
"""Openings are already cut from their hosts; spaces are drawn from their footprints instead."""
Z_UP_TO_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)
_GREY: Rgba = (0.8, 0.8, 0.8, 1.0)
Progress = Callable[[str, int, int], None]


class GlbFile(NamedTuple):
    """One written GLB: the storey it draws (None for site-level elements), where, how much."""

    storey_id: str | None
    path: Path
    element_count: int
    bytes: int


class Node(NamedTuple):
    """One element drawn: its entity id, storey, mesh (the iterator's geometry id) and GLB matrix."""

    element: int
    storey: str | None
    mesh: str
    matrix: np.ndarray
    name: str
    extras: dict[str, str]


class Failure(NamedTuple):
    """An element with a body the iterator could not draw."""

    element: int
    global_id: str
    warning: str


@dataclass(slots=True)
class Tessellation:
    """What one process tessellated: meshes by geometry id (empty: nothing to draw), nodes, failures.

    It is what a geometry worker sends back, so it holds only plain data and numpy arrays.
    """

    meshes: dict[str, list[Primitive]]
    nodes: list[Node]
    failed: list[Failure]
    peak_mb: float = 0.0
    cpu_s: float = 0.0


@dataclass(frozen=True, slots=True)
class GeometryResult:
    """The GLB files written, the elements whose geometry could not be built, and how it went.

    ``error`` says why the geometry stage failed as a whole (then no file was written and the
    previous ones stay); ``peak_mb`` is the peak memory of the process that tessellated, ``cpu_s``
    the processor seconds its job took (what load on a shared machine disturbs least).
    """

    files: list[GlbFile]
    failed: list[str]
    warnings: list[str]
    error: str | None = None
    peak_mb: float = 0.0
    cpu_s: float = 0.0


def write_glbs(
    source: Path | ifcopenshell.file,
    out_dir: Path,
    *,
    offset: Point3 = (0.0, 0.0, 0.0),
    progress: Progress | None = None,
    threads: int | None = None,
    before_swap: Callable[[], object] | None = None,
) -> GeometryResult:
    """Write ``out_dir`` (replacing it whole) with one GLB per storey; ``offset`` as in BimGeoref.

    ``before_swap`` runs after every file is written and before they replace ``out_dir``: if it
    raises, nothing is replaced.
    """
    model = source if isinstance(source, ifcopenshell.file) else open_ifc(source)
    out_dir = Path(out_dir)
    staging = staging_dir(out_dir)
    try:
        result = write_files(model, staging, out_dir, offset=offset, progress=progress, threads=threads)
        if before_swap is not None:
            before_swap()
        swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def staging_dir(out_dir: Path) -> Path:
    """Make the empty sibling folder GLBs are written into before they replace ``out_dir``."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))


def write_files(
    model: ifcopenshell.file,
    folder: Path,
    final: Path,
    *,
    offset: Point3 = (0.0, 0.0, 0.0),
    progress: Progress | None = None,
    threads: int | None = None,
) -> GeometryResult:
    """Write the GLBs into ``folder``; the result names them where they will be, under ``final``."""
    part = tessellate(model, offset, progress, threads=threads or default_threads())
    return write_parts([part], folder, final)


def default_threads() -> int:
    """Return the geometry threads: every core but one, which reads the structure meanwhile.

    Measured on a 2-core machine (bench/bench_ifc.py): two iterator threads took 1.7× the time of
    one on Office_A, since the structure thread and the iterator's own overhead compete for them.
    """
    return max(1, multiprocessing.cpu_count() - 1)


def tessellate(
    model: ifcopenshell.file,
    offset: Point3 = (0.0, 0.0, 0.0),
    progress: Progress | None = None,
    *,
    share: Sequence[Entity] | None = None,
    threads: int = 1,
) -> Tessellation:
    """Tessellate ``share`` of the model's elements (all of them when None) into meshes and nodes.

    A share is one of :func:`bim.geometry_shares.split`'s: an element the iterator yields outside
    it is another share's, so it is left to that one rather than drawn twice.
    """
    report = progress or (lambda stage, done, total: None)
    settings = ifcopenshell.geom.settings()
    if share is None:
        iterator = ifcopenshell.geom.iterator(settings, model, threads, exclude=list(SKIPPED_CLASSES))
    else:
        iterator = ifcopenshell.geom.iterator(settings, model, threads, include=list(share))
    allowed = None if share is None else {element.id() for element in share}
    part = Tessellation({}, [], [])
    storeys: dict[int, str | None] = {}
    shift = np.eye(4)
    shift[:3, 3] = [-v for v in offset]
    to_glb = Z_UP_TO_Y_UP @ shift
    done = 0
    if (share is None or share) and iterator.initialize():
        while True:
            shape = iterator.get()
            done += 1
            if allowed is None or shape.id in allowed:
                _add_shape(part, model, shape, to_glb, storeys)
            if done % 200 == 0:
                report("geometry", iterator.progress(), 100)
            if not iterator.next():
                break
    report("geometry", 100, 100)
    drawn = {node.element for node in part.nodes}
    part.failed.extend(_missing(model.by_type("IfcProduct") if share is None else share, drawn))
    return part


def _add_shape(
    part: Tessellation, model: ifcopenshell.file, shape: Any, to_glb: np.ndarray, storeys: dict[int, str | None]
) -> None:
    mesh = shape.geometry.id
    if mesh not in part.meshes:
        part.meshes[mesh] = _primitives(shape.geometry)
    if not part.meshes[mesh]:
        return
    element = model.by_id(shape.id)
    matrix = np.asarray(shape.transformation.matrix, dtype=np.float64).reshape(4, 4).T
    part.nodes.append(
        Node(
            shape.id,
            _storey_id(element, storeys),
            mesh,
            to_glb @ matrix,
            str(element.Name or element.GlobalId),
            {"globalId": element.GlobalId, "ifcClass": element.is_a()},
        )
    )


def write_parts(parts: Sequence[Tessellation], folder: Path, final: Path) -> GeometryResult:
    """Write one GLB per storey from the parts of one model, into ``folder``, named under ``final``.

    Nodes go in element order whichever part drew them, so one process or several write the same
    files; a mesh two parts both tessellated (an instanced family split between them) is stored
    once per storey, as one process would.
    """
    meshes: dict[str, list[Primitive]] = {}
    for part in parts:
        meshes.update(part.meshes)
    builders: dict[str | None, GlbBuilder] = {}
    stored: dict[tuple[str | None, str], int] = {}
    for node in sorted((n for part in parts for n in part.nodes), key=lambda n: n.element):
        builder = builders.setdefault(node.storey, GlbBuilder())
        key = (node.storey, node.mesh)
        if key not in stored:
            stored[key] = builder.add_mesh(meshes[node.mesh], node.mesh)
        builder.add_node(stored[key], node.matrix, node.name, node.extras)
    files = []
    for storey_id, builder in sorted(builders.items(), key=lambda kv: kv[0] or ""):
        name = f"storey-{storey_id.replace('$', '-')}.glb" if storey_id else "site.glb"
        size = builder.write(folder / name)
        files.append(GlbFile(storey_id, final / name, builder.node_count, size))
    failures = sorted(f for part in parts for f in part.failed)
    return GeometryResult(files, [f.global_id for f in failures], [f.warning for f in failures])


def _primitives(geometry: Any) -> list[Primitive]:
    verts = np.frombuffer(geometry.verts_buffer, dtype=np.float64).reshape(-1, 3)
    normals = np.frombuffer(geometry.normals_buffer, dtype=np.float64).reshape(-1, 3)
    faces = np.frombuffer(geometry.faces_buffer, dtype=np.int32).reshape(-1, 3)
    if len(faces) == 0:
        return []
    material_ids = np.frombuffer(geometry.material_ids_buffer, dtype=np.int32)
    colours = [_colour(m) for m in geometry.materials]
    primitives = []
    for material in np.unique(material_ids) if len(material_ids) == len(faces) else [-1]:
        chosen = faces if material == -1 else faces[material_ids == material]
        used, remapped = np.unique(chosen, return_inverse=True)
        colour = colours[material] if 0 <= material < len(colours) else _GREY
        primitives.append(
            Primitive(
                positions=verts[used],
                normals=normals[used] if len(normals) == len(verts) else None,
                indices=remapped.reshape(-1, 3).astype(np.uint32),
                colour=colour,
            )
        )
    return primitives


def _colour(material: Any) -> Rgba:
    try:
        diffuse = material.diffuse
        transparency = float(material.transparency or 0.0)
        alpha = 1.0 - transparency if 0.0 <= transparency <= 1.0 else 1.0
        return (float(diffuse.r()), float(diffuse.g()), float(diffuse.b()), alpha)
    except (AttributeError, TypeError, RuntimeError):
        return _GREY


def _storey_id(element: Entity, cache: dict[int, str | None]) -> str | None:
    if element.id() not in cache:
        storey = storey_of(element)
        cache[element.id()] = storey.GlobalId if storey is not None else None
    return cache[element.id()]


def _missing(candidates: Iterable[Entity], drawn: set[int]) -> list[Failure]:
    failed = []
    for product in candidates:
        if product.id() in drawn or product.Representation is None:
            continue
        if any(product.is_a(c) for c in SKIPPED_CLASSES) or not _has_body(product):
            continue
        warning = f"{product.is_a()} {product.GlobalId} ({product.Name}): geometry failed, element skipped"
        failed.append(Failure(product.id(), product.GlobalId, warning))
    return failed


def _has_body(product: Entity) -> bool:
    for representation in product.Representation.Representations:
        context = representation.ContextOfItems
        while context.is_a("IfcGeometricRepresentationSubContext"):
            context = context.ParentContext
        if context.ContextType in ("Model", None) and representation.RepresentationIdentifier in (
            "Body",
            "Facetation",
            "Tessellation",
            None,
            "",
        ):
            return True
    return False


def swap(staging: Path, out_dir: Path) -> None:
    """Put the written folder in place of ``out_dir``, whose previous files are then deleted."""
    retired = None
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.old-{staging.name}")
        out_dir.rename(retired)
    staging.rename(out_dir)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
