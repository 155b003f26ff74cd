"""Opening a GIS file: which format, which layer, which CRS — or a clear refusal naming the file.

Everything that can be decided before reading a feature is decided here, so a bad file fails
before any work: a Shapefile without its ``.shx``/``.dbf``/``.prj`` sidecars, a GeoPackage with
several layers and none chosen, a file GDAL does not know, a CRS pyproj does not know.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from gis.crs import crs_label, is_gcj02, resolve_crs
from gis.errors import CrsError, GisImportError

DRIVERS = {"GeoJSON": "GeoJSON", "GPKG": "GeoPackage", "ESRI Shapefile": "Shapefile"}


@dataclass(frozen=True, slots=True)
class OpenedSource:
    """A readable layer of a file with its CRS settled; ``crs`` is None for GCJ-02 input."""

    path: Path
    driver: str
    layer: str
    crs: CRS | None
    crs_label: str
    notes: tuple[str, ...] = ()


def open_source(path: Path, *, layer: str | None, crs: str | int | None, convert_gcj02: bool) -> OpenedSource:
    """Check a file, choose its layer and settle its CRS, or raise :class:`GisImportError`."""
    if not path.is_file():
        raise GisImportError(f"{path.name}: no such file")
    if path.suffix.lower() == ".shp":
        _check_sidecars(path, crs_given=crs is not None)
    try:
        info_layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise GisImportError(f"{path.name}: not a GIS file GDAL can read ({_short(exc)})") from None
    names = [str(row[0]) for row in info_layers]
    chosen = _choose_layer(path, names, layer)
    try:
        info = pyogrio.read_info(path, layer=chosen)
    except (DataSourceError, DataLayerError) as exc:
        raise GisImportError(f"{path.name}: cannot read layer {chosen!r} ({_short(exc)})") from None
    driver = str(info["driver"])
    if driver not in DRIVERS:
        raise GisImportError(
            f"{path.name}: {driver} files are not imported; use GeoJSON, GeoPackage or Shapefile"
        )
    if info["geometry_type"] is None:
        raise GisImportError(f"{path.name}: layer {chosen!r} has no geometry column")
    resolved, label, notes = _settle_crs(path, info.get("crs"), crs, convert_gcj02)
    return OpenedSource(path, DRIVERS[driver], chosen, resolved, label, notes)


def read_frame(source: OpenedSource) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Read the whole layer, turning GDAL's warnings into notes rather than stderr noise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = gpd.read_file(source.path, layer=source.layer, engine="pyogrio", fid_as_index=True)
        except (DataSourceError, DataLayerError, ValueError) as exc:
            raise GisImportError(
                f"{source.path.name}: layer {source.layer!r} unreadable ({_short(exc)})"
            ) from None
    return frame, tuple(str(w.message) for w in caught)


def _check_sidecars(path: Path, *, crs_given: bool) -> None:
    present = {p.name.lower() for p in path.parent.iterdir() if p.stem.lower() == path.stem.lower()}
    needed = {".shx": "its index", ".dbf": "its attributes"}
    if not crs_given:
        needed[".prj"] = "its CRS (or pass crs=, e.g. crs='EPSG:4547')"
    missing = [
        f"{path.stem}{ext} ({why})"
        for ext, why in needed.items()
        if f"{path.stem.lower()}{ext}" not in present
    ]
    if missing:
        raise GisImportError(f"{path.name}: Shapefile incomplete, missing " + ", ".join(missing))


def _choose_layer(path: Path, names: list[str], layer: str | None) -> str:
    if layer is not None:
        if layer not in names:
            raise GisImportError(f"{path.name}: no layer {layer!r}; its layers are: {', '.join(names)}")
        return layer
    if not names:
        raise GisImportError(f"{path.name}: holds no layer")
    if len(names) > 1:
        raise GisImportError(
            f"{path.name}: holds {len(names)} layers, choose one (layer=...): {', '.join(sorted(names))}"
        )
    return names[0]


def _settle_crs(
    path: Path, file_crs: object, declared: str | int | None, convert_gcj02: bool
) -> tuple[CRS | None, str, tuple[str, ...]]:
    if declared is not None and is_gcj02(declared):
        if not convert_gcj02:
            raise GisImportError(
                f"{path.name}: declared GCJ-02 (Amap/Tencent) coordinates; they are offset by hundreds of "
                "metres from WGS84 and not a CRS pyproj knows: pass convert_gcj02=True to convert them"
            )
        return None, "GCJ-02", ()
    try:
        if declared is not None:
            resolved = resolve_crs(declared)
            notes: tuple[str, ...] = ()
            if file_crs is not None and resolve_crs(str(file_crs)) != resolved:
                notes = (
                    f"the file says {file_crs}, the import declares {crs_label(resolved)}: declared wins",
                )
            return resolved, crs_label(resolved), notes
        if file_crs is None:
            raise GisImportError(f"{path.name}: has no CRS; declare it (crs='EPSG:4490', 'EPSG:4547', …)")
        resolved = resolve_crs(str(file_crs))
        return resolved, crs_label(resolved), ()
    except CrsError as exc:
        raise GisImportError(f"{path.name}: {exc}") from None


def _short(exc: Exception) -> str:
    return str(exc).split(";")[0].strip() or type(exc).__name__
