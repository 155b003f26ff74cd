"""The ``twin import-ifc``, ``twin import-gis`` and ``twin georef align`` commands.

The commands run the same import job as ``POST /api/imports``, in the foreground with a progress
bar; ``--json`` prints the finished job for scripts. The importers and the aligner come from the
composition root (``twin/cli.py``), which alone may import ``bim`` and ``gis``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from twin.errors import TwinError
from twin.events import EventBus
from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, JobStatus, SiteRef
from twin.imports.assets import assets_root
from twin.imports.console import run_in_foreground
from twin.services.endpoints import database_url
from twin.settings import get_settings
from twin.store.engine import check_schema, make_engine, one_off_engine, session_factory

Registry = Callable[[], ImporterRegistry]
Aligner = Callable[..., dict[str, Any]]
"""``align(session, building, apply=...)``: fit a building onto its footprint, return the difference."""

LAYER_KINDS = ("footprints", "roads", "zones", "pois", "parcels")
SITE_HELP = "The site's id, or its name (a new name creates the site where the file says it is)."
console = Console()


def add_import_commands(app: typer.Typer, importers: Registry, align: Aligner) -> None:
    """Add the import and georeference commands to the CLI."""
    georef_app = typer.Typer(help="BIM buildings against their GIS footprints.", no_args_is_help=True)
    app.add_typer(georef_app, name="georef")

    @app.command("import-ifc")
    def import_ifc(
        path: Annotated[Path, typer.Argument(help="The IFC file (IFC2X3, IFC4, IFC4X3).")],
        site: Annotated[str, typer.Option(help=SITE_HELP)],
        building: Annotated[str | None, typer.Option(help="Import into the building of this name.")] = None,
        model: Annotated[str | None, typer.Option(help="The model's key; a new version keeps it.")] = None,
        georef: Annotated[str | None, typer.Option(help="LAT,LON[,HEIGHT[,BEARING]] of the model's origin.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the finished job as JSON.")] = False,
    ) -> None:
        """Import a BIM model: buildings, storeys, spaces, devices, walking graph and GLB geometry."""
        options = {"building": building, "model": model, "georef": georef}
        _run(importers(), ImportKind.IFC, path, site, options, as_json)

    @app.command("import-gis")
    def import_gis(
        path: Annotated[Path, typer.Argument(help="A GeoJSON, GeoPackage, Shapefile (.shp or .zip).")],
        site: Annotated[str, typer.Option(help=SITE_HELP)],
        layer: Annotated[str | None, typer.Option(help="The layer of a file holding several.")] = None,
        kind: Annotated[str | None, typer.Option(help=f"What the layer holds: {'|'.join(LAYER_KINDS)}.")] = None,
        crs: Annotated[str | None, typer.Option(help="The CRS when the file has none (EPSG:4547…).")] = None,
        name: Annotated[str | None, typer.Option(help="The layer's name in the site.")] = None,
        swap_axes: Annotated[bool, typer.Option(help="The file has latitude and longitude swapped.")] = False,
        convert_gcj02: Annotated[bool, typer.Option(help="Convert GCJ-02 (Amap, Tencent) coordinates.")] = False,
        skip_rejected: Annotated[bool, typer.Option(help="Leave out broken geometries, do not fail.")] = False,
        mapping: Annotated[
            list[str] | None,
            typer.Option("--map", help="A column rule COLUMN=VALUE:KIND, or id|name|height|levels=COLUMN (repeat)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the finished job as JSON.")] = False,
    ) -> None:
        """Import a GIS layer: footprints, roads, zones, parcels and points of interest."""
        options = {
            "layer": layer,
            "kind": kind,
            "crs": crs,
            "name": name,
            "swap_axes": swap_axes,
            "convert_gcj02": convert_gcj02,
            "skip_rejected": skip_rejected,
            "map": "; ".join(mapping or []) or None,
        }
        _run(importers(), ImportKind.GIS, path, site, options, as_json)

    @georef_app.command("align")
    def georef_align(
        building: Annotated[str, typer.Argument(help="The building's id or name.")],
        dry_run: Annotated[bool, typer.Option(help="Report the difference, move nothing.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Fit a BIM building onto its GIS footprint and move its floors, spaces and devices."""
        with one_off_engine(database_url(get_settings())) as engine, session_factory(engine)() as session:
            session.info["actor"] = _actor()
            with session.begin():
                result = align(session, building, apply=not dry_run)
        _print_result(result, as_json)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(
    registry: ImporterRegistry, kind: ImportKind, path: Path, site: str, options: dict[str, Any], as_json: bool
) -> None:
    settings = get_settings()
    url = database_url(settings)
    check_schema(url)
    path = path.expanduser().resolve()
    if not path.is_file():
        raise TwinError(f"{path}: no such file")
    importer = registry.get(kind)
    if not path.name.lower().endswith(importer.suffixes):
        raise TwinError(f"{path.name}: a {kind} import reads {', '.join(importer.suffixes)} files")
    importer.check_file(path)
    request = ImportRequest(
        kind=kind,
        path=path,
        file_name=path.name,
        site=SiteRef.parse(site),
        options={k: v for k, v in options.items() if v not in (None, False)},
        created_by=_actor(),
    )
    engine = make_engine(url)
    try:
        runner = ImportRunner(engine, EventBus(), registry, assets_root(settings.home))
        job = run_in_foreground(runner, request, as_json=as_json)
    finally:
        engine.dispose()
    if job.status is JobStatus.FAILED:
        raise typer.Exit(1)


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    table = Table("", "")
    for key, value in result.items():
        table.add_row(key, str(value))
    console.print(table)
