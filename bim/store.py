"""The IFC importer: the spatial graph committed as soon as it is read, the GLBs swapped in after.

``bim`` implements the twin's :class:`twin.imports.Importer`; the composition root registers it.
A worker process tessellates the file (:mod:`bim.geometry_process`) while this one reads the
structure and writes it through the twin's use cases; that transaction is committed at once
(the job's stage says "graph ready"), so devices are in the store while the geometry goes on —
and the audit log's lock, which every use case takes until its commit, is held only for the
graph writes. The GLB folder is then staged to replace the served one when the job's last
transaction commits. A file or structure that is refused writes nothing; a geometry stage that
fails as a whole leaves the committed graph and the previous GLBs, and the job says so.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bim.errors import IfcImportError
from bim.geometry import GeometryResult
from bim.geometry_process import GeometryProcess, GeometryRun, GeometrySource, warm
from bim.importer import import_ifc
from bim.model import BimGeoref, BimModel
from bim.placement import place_model
from bim.reader import Progress
from bim.sync import SyncState
from bim.sync_devices import retire_missing, write_devices, write_walks
from bim.sync_places import write_buildings, write_floors, write_spaces
from twin.imports import ImportContext, ImportInputError, ImportKind, ImportOutcome, ImportRequest
from twin.imports.assets import MANIFEST, safe_name, site_assets
from twin.imports.sites import Origin, open_site
from twin.store.models import BuildingRow, FloorRow, SpaceRow

_MAGIC = b"ISO-10303-21;"
GRAPH_READY = "graph ready"
"""The job's stage once the graph is committed: screens may load the model's places and devices."""
_OPTIONS = ("building", "model", "georef")


@dataclass(frozen=True, slots=True)
class IfcOptions:
    """What an IFC import may be told: the building to merge into, the model's key, a georeference."""

    building: str | None = None
    model: str | None = None
    georef: BimGeoref | None = None

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> IfcOptions:
        """Check the options of a request, naming the one that is wrong."""
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ImportInputError(f"unknown IFC import option(s): {', '.join(unknown)}", f"use {', '.join(_OPTIONS)}")
        georef = options.get("georef")
        return cls(
            building=_text(options.get("building")),
            model=safe_name(str(options["model"])) if options.get("model") else None,
            georef=parse_georef(georef) if georef else None,
        )


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


def parse_georef(text: str) -> BimGeoref:
    """Read ``LAT,LON[,HEIGHT[,BEARING]]``: where the model's origin is, and where its +Y points."""
    try:
        values = [float(part) for part in str(text).split(",")]
    except ValueError:
        values = []
    if not 2 <= len(values) <= 4 or not (-90 <= values[0] <= 90 and -180 <= values[1] <= 180):
        raise ImportInputError(
            f"georef {text!r} is not LAT,LON[,HEIGHT[,BEARING]]",
            "degrees WGS84, height in metres, bearing of the model's +Y in degrees clockwise from north",
        )
    height = values[2] if len(values) > 2 else 0.0
    bearing = values[3] if len(values) > 3 else 0.0
    return BimGeoref(source="given", latitude=values[0], longitude=values[1], height=height, rotation_deg=bearing)


class IfcImporter:
    """Import IFC2X3, IFC4 and IFC4X3 models into the graph."""

    kind: ImportKind = ImportKind.IFC
    suffixes: tuple[str, ...] = (".ifc",)

    def __init__(self, geometry: GeometrySource = GeometryProcess) -> None:
        """Start a geometry worker now (the composition root builds the importer at start-up)."""
        self._geometry = geometry
        if geometry is GeometryProcess:
            warm()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse unknown or malformed options (a georeference that is not LAT,LON…)."""
        IfcOptions.read(options)

    def check_file(self, path: Path) -> None:
        """Refuse a file that does not start as a STEP file does."""
        with path.open("rb") as stream:
            head = stream.read(256)
        if not head.lstrip().startswith(_MAGIC):
            raise ImportInputError(f"{path.name}: not an IFC file: it does not start with ISO-10303-21;")

    def begin(self, request: ImportRequest, assets: Path) -> EarlyGeometry:
        """Hand the file to the geometry workers now: on a small file they are the import's longest path."""
        options = IfcOptions.read(request.options)
        out = assets / ".incoming" / f"import-{uuid.uuid4().hex}"
        return EarlyGeometry(self._geometry, request.path, out, options, spares=self._geometry is GeometryProcess)

    def run(self, context: ImportContext) -> ImportOutcome:
        """Store one model's graph and commit it, then stage its GLBs for the job's commit."""
        request = context.request
        early = context.head_start
        if not isinstance(early, EarlyGeometry):  # the runner begins every job of a BeginsEarly importer
            raise TypeError("an IFC import runs after IfcImporter.begin, with what it returned as head_start")
        options, incoming = early.options, early.out
        graph: list[tuple[SyncState, list[str], int]] = []

        def store(model: BimModel) -> None:
            graph.append(_store_graph(context, model, options))
            context.checkpoint(GRAPH_READY)

        try:
            model, geometry = _read(context, incoming, options.georef, store, early.source)
            state, notes, walks = graph[0]
            if geometry.error is None:
                context.progress("staging the geometry", 0.97)
                pending = context.stage(site_assets(context.assets, state.site.id) / state.key)
                pending.parent.mkdir(parents=True, exist_ok=True)
                incoming.rename(pending)
                _write_manifest(pending, state, geometry, request.file_name)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        counts = _counts(state, geometry) | {"walk_edges": walks}
        summary = state.changes.summary() | {"model": state.key, "georef": _georef_summary(model.georef)}
        summary["geometry"] = _geometry_summary(geometry)
        warnings = [*_geometry_failure(geometry), *model.warnings, *notes, *geometry.warnings, *state.warnings]
        return ImportOutcome(state.site.id, counts, summary, warnings)


def _store_graph(context: ImportContext, model: BimModel, options: IfcOptions) -> tuple[SyncState, list[str], int]:
    """Write the model's places, devices and walks; refused input raises before anything commits."""
    session = context.session
    site, new_site = open_site(session, context.request.site, lambda: _origin(model))
    default, notes = place_model(model.georef, site.origin_lat, site.origin_lon, site.origin_height)
    key = options.model or safe_name(Path(context.request.file_name).stem)
    state = SyncState(session, site, model, key, default, new_site=new_site)
    context.progress("storing the graph", 0.1)
    plans = write_buildings(state, options.building)
    write_floors(state, plans)
    write_spaces(state)
    write_devices(state)
    walks = write_walks(state)
    retire_missing(state)
    return state, notes, walks


class EarlyGeometry:
    """The geometry of a file, begun before its job had a progress bar: what it reports till then is dropped.

    ``spares``: the job's end starts the next geometry workers (:func:`bim.geometry_process.warm`).
    """

    def __init__(self, geometry: GeometrySource, path: Path, out: Path, options: IfcOptions, *, spares: bool) -> None:
        self.out, self.options, self._spares = out, options, spares
        self._progress: Progress | None = None
        self._run = geometry(path, out, options.georef, self._relay)

    def source(self, path: Path, out_dir: Path, georef: BimGeoref | None, progress: Progress | None) -> GeometryRun:
        """Be the import's geometry source: the run already going, its progress now reported to ``progress``."""
        self._progress = progress
        return self._run

    def cancel(self) -> None:
        """Stop the workers (the job failed before its import ran); they wrote nothing."""
        self._run.cancel()
        shutil.rmtree(self.out, ignore_errors=True)

    def close(self) -> None:
        """Start the spare workers the next job takes, now that this one has committed or failed."""
        if self._spares:
            warm()

    def _relay(self, stage: str, step: int, total: int) -> None:
        progress = self._progress
        if progress is not None:
            progress(stage, step, total)


def _read(
    context: ImportContext,
    out: Path,
    georef: BimGeoref | None,
    store: Callable[[BimModel], None],
    geometry: GeometrySource,
) -> tuple[BimModel, GeometryResult]:
    """Read and tessellate the file, handing the structure to ``store`` as soon as it is read."""
    done = {"structure": 0.0, "geometry": 0.0}
    ready = [False]

    def progress(stage: str, step: int, total: int) -> None:
        part = "geometry" if stage == "geometry" else "structure"
        done[part] = step / total if total else 1.0
        label = "tessellating" if part == "geometry" else f"reading {stage}"
        if ready[0]:
            label = f"{GRAPH_READY}, {label}"
        context.progress(label, 0.05 * done["structure"] + 0.9 * done["geometry"])

    def stored(model: BimModel) -> None:
        store(model)
        ready[0] = True

    try:
        return import_ifc(
            context.request.path, out, progress=progress, on_model=stored, georef=georef, geometry=geometry
        )
    except IfcImportError as exc:
        reason = f"{exc.entity}: {exc.reason}" if exc.entity else exc.reason
        raise ImportInputError(f"{context.request.file_name}: {reason}") from exc


def _origin(model: BimModel) -> Origin | None:
    georef = model.georef
    if georef.latitude is None or georef.longitude is None:
        return None
    return (georef.latitude, georef.longitude, georef.height or 0.0)


def _counts(state: SyncState, geometry: GeometryResult) -> dict[str, int]:
    rows = list(state.places.values())
    return {
        "buildings": sum(isinstance(r, BuildingRow) for r in rows),
        "floors": sum(isinstance(r, FloorRow) for r in rows),
        "spaces": sum(isinstance(r, SpaceRow) for r in rows),
        "devices": len(state.devices),
        "glb_files": len(geometry.files),
        "glb_bytes": sum(f.bytes for f in geometry.files),
        "geometry_failed": len(geometry.failed),
    }


def _geometry_summary(geometry: GeometryResult) -> dict[str, Any]:
    if geometry.error is not None:
        return {"status": "failed", "error": geometry.error, "glbs": "previous kept"}
    return {
        "status": "done",
        "elements_failed": len(geometry.failed),
        "peak_mb": round(geometry.peak_mb, 1),
        "cpu_s": round(geometry.cpu_s, 3),
    }


def _geometry_failure(geometry: GeometryResult) -> list[str]:
    """Say first, when the geometry failed as a whole, that the graph is new and the GLBs are not."""
    if geometry.error is None:
        return []
    return [
        f"geometry failed as a whole ({geometry.error}): the graph is stored, the 3D view keeps "
        "the model's previous GLBs (none for a new model); import the file again to retry"
    ]


def _georef_summary(georef: BimGeoref) -> dict[str, Any]:
    return {
        "source": georef.source,
        "latitude": georef.latitude,
        "longitude": georef.longitude,
        "height": georef.height,
        "rotation_deg": georef.rotation_deg,
        "recentred_by": list(georef.offset),
        "second_georeference": georef.other.source if georef.other is not None else None,
    }


def _write_manifest(folder: Path, state: SyncState, geometry: GeometryResult, file_name: str) -> None:
    """Say which GLB draws which floor of which building: the view fetches the transform by building."""
    first = next((r.id for r in state.places.values() if isinstance(r, BuildingRow)), None)
    files = []
    for glb in geometry.files:
        floor = state.places.get(glb.storey_id or "")
        building = state.places.get(state.storey_building.get(glb.storey_id or "", ""))
        files.append(
            {
                "file": glb.path.name,
                "storey": glb.storey_id,
                "floor_id": floor.id if floor is not None else None,
                "building_id": building.id if building is not None else first,
                "elements": glb.element_count,
                "bytes": glb.bytes,
            }
        )
    manifest = {
        "model": state.key,
        "source": file_name,
        "project": state.model.project_id,
        "schema": state.model.schema,
        "files": files,
        "geometry_failed": geometry.failed,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
