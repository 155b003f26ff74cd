"""The GIS importer: a layer into a site's graph and map, in one transaction.

``gis`` implements the twin's :class:`twin.imports.Importer`; the composition root registers it.
The layer is read, validated and reprojected by :func:`gis.read_layer` (against the site's origin
when the site has one, so far features and swapped axes are caught), then footprints become or
join buildings, points of interest become devices, and every feature is kept in the site's layer;
then the site's entrances are joined again by its roads and footways (``twin.graph.outdoors``).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.declared import declared_mapping
from gis.errors import GisError
from gis.frame import LocalFrame
from gis.kinds import DEFAULT_MAPPING, KindMapping, LayerKind
from gis.model import GisLayer, IssueCode, Severity
from gis.reader import read_layer
from gis.sync import LISTED, LayerSync
from gis.sync_buildings import write_footprints
from gis.sync_features import retire_missing, write_devices, write_rows
from gis.upload import unpack
from twin.graph.outdoors import join_outdoors
from twin.imports import ImportContext, ImportInputError, ImportKind, ImportOutcome
from twin.imports.sites import Origin, find_site, has_no_origin, resolve_site

_FLAGS = ("swap_axes", "convert_gcj02", "skip_rejected")
_OPTIONS = ("layer", "kind", "crs", "name", "map", *_FLAGS)
_HEADS = {
    ".geojson": (b"{",),
    ".json": (b"{",),
    ".gpkg": (b"SQLite format 3\x00",),
    ".zip": (b"PK\x03\x04",),
    ".shp": (b"\x00\x00\x27\x0a",),
}


@dataclass(frozen=True, slots=True)
class GisOptions:
    """What a GIS import may be told: which layer of the file, what it holds, its CRS, its name here."""

    layer: str | None = None
    kind: LayerKind | None = None
    crs: str | None = None
    name: str | None = None
    swap_axes: bool = False
    convert_gcj02: bool = False
    skip_rejected: bool = False
    mapping: KindMapping = DEFAULT_MAPPING
    """The default column mapping with the import's declared rules first (``map``, gis.declared)."""

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> GisOptions:
        """Check the options of a request, naming the one that is wrong."""
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ImportInputError(f"unknown GIS import option(s): {', '.join(unknown)}", f"use {', '.join(_OPTIONS)}")
        kind = options.get("kind")
        try:
            layer_kind = LayerKind(kind) if kind else None
        except ValueError:
            known = ", ".join(k.value for k in LayerKind)
            raise ImportInputError(f"unknown layer kind {kind!r}", f"one of {known}") from None
        texts = {key: str(options[key]).strip() or None if options.get(key) is not None else None for key in _OPTIONS}
        flags = {key: options.get(key) in (True, "true", "1", "yes", "on") for key in _FLAGS}
        name = texts["name"]
        try:
            mapping = declared_mapping(texts["map"])
        except GisError as exc:
            raise ImportInputError(str(exc), "see docs/gis.md, declaring a column mapping") from None
        return cls(texts["layer"], layer_kind, texts["crs"], name[:100] if name else None, **flags, mapping=mapping)


class GisImporter:
    """Import GeoJSON, GeoPackage and (zipped) Shapefile layers into a site."""

    kind: ImportKind = ImportKind.GIS
    suffixes: tuple[str, ...] = tuple(_HEADS)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse unknown options and layer kinds."""
        GisOptions.read(options)

    def check_file(self, path: Path) -> None:
        """Refuse a file whose first bytes do not match its ending."""
        heads = _HEADS.get(path.suffix.lower())
        with path.open("rb") as stream:
            head = stream.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
        if heads is None or not head.startswith(heads):
            raise ImportInputError(f"{path.name}: its content is not a {path.suffix.lstrip('.')} file")

    def run(self, context: ImportContext) -> ImportOutcome:
        """Read one layer and store it; nothing is written if any part fails."""
        request, session = context.request, context.session
        options = GisOptions.read(request.options)
        with tempfile.TemporaryDirectory(prefix="twin-gis-") as scratch:
            path = request.path
            if path.suffix.lower() == ".zip":
                path = unpack(path, Path(scratch), request.file_name)
            site = find_site(session, request.site)
            known = site is not None and not has_no_origin(site)
            origin = LocalFrame(site.origin_lat, site.origin_lon, site.origin_height) if site and known else None
            context.progress("reading features", 0.0)
            layer = _read(path, request.file_name, options, origin, context)
        if not layer.features:
            raise ImportInputError(f"{request.file_name}: layer {layer.name!r} holds no usable feature")
        site = resolve_site(session, request.site, lambda: _centre(layer))
        state = LayerSync(session, site, layer, options.name or layer.name[:100], options.mapping, context.job_id)
        context.progress("storing buildings", 0.65)
        write_footprints(state)
        context.progress("storing devices", 0.85)
        write_devices(state)
        retire_missing(state)
        context.progress("storing the layer", 0.92)
        rows = write_rows(state)
        context.progress("joining entrances by the outdoor paths", 0.96)
        counts = _counts(state, rows) | {"outdoor_walks": join_outdoors(session, site.id)}
        return ImportOutcome(site.id, counts, _summary(state), _warnings(state))


def _read(path: Path, name: str, options: GisOptions, origin: LocalFrame | None, context: ImportContext) -> GisLayer:
    try:
        return read_layer(
            path,
            layer=options.layer,
            crs=options.crs,
            kind=options.kind,
            site_origin=origin,
            progress=lambda done, total: context.progress("reading features", 0.6 * done / max(total, 1)),
            swap_axes=options.swap_axes,
            convert_gcj02=options.convert_gcj02,
            skip_rejected=options.skip_rejected,
            mapping=options.mapping,
        )
    except GisError as exc:
        message = str(exc)
        raise ImportInputError(message if message.startswith(name) else f"{name}: {message}") from exc


def _centre(layer: GisLayer) -> Origin | None:
    bounds = layer.bounds
    if bounds is None:
        return None
    return ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2, 0.0)


def _counts(state: LayerSync, rows: int) -> dict[str, int]:
    layer = state.layer
    return {
        "features": len(layer.features),
        "buildings": len(state.places),
        "buildings_linked": len(state.links),
        "devices": len(state.devices),
        "layer_rows": rows,
        "repaired": len(layer.issues_of(IssueCode.REPAIRED)),
        "rejected": len(layer.issues_of(IssueCode.REJECTED)),
        "far_from_site": len(layer.issues_of(IssueCode.FAR_FROM_SITE)),
    }


def _summary(state: LayerSync) -> dict[str, Any]:
    layer = state.layer
    return state.changes.summary() | {
        "layer": state.name,
        "source": layer.source,
        "source_crs": layer.source_crs,
        "kinds": dict(Counter(f.kind.value for f in layer.features)),
        "links": state.links[:LISTED],
        "notes": [i.message for i in layer.issues if i.severity is Severity.INFO][:LISTED],
    }


def _warnings(state: LayerSync) -> list[str]:
    issues = [i.message for i in state.layer.issues if i.severity is not Severity.INFO]
    return [*issues, *state.warnings]
