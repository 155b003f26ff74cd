"""Read one layer of a GeoJSON, GeoPackage or Shapefile into a validated :class:`GisLayer` in EPSG:4326.

The order matters: the file is opened and its CRS settled before any feature is read; geometries
are checked and repaired in the file's own CRS (where they were drawn); axis order is checked
before reprojecting (a swapped layer reprojects to nonsense); only then is everything reprojected
to WGS84 and classified. Any failure raises :class:`GisImportError` and returns nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from gis.attributes import json_safe_record
from gis.crs import crs_to_srid
from gis.errors import CrsError, GisImportError
from gis.frame import LocalFrame
from gis.gcj02 import gcj02_to_wgs84
from gis.kinds import DEFAULT_MAPPING, FeatureKind, KindMapping, LayerKind
from gis.model import GisFeature, GisLayer, Issue, IssueCode, Severity
from gis.sources import OpenedSource, open_source, read_frame
from gis.validate import (
    check_geometries,
    distance_km,
    far_from_site,
    looks_swapped_geographic,
    mixed_types,
    repair,
)

Progress = Callable[[int, int], None]
"""Called with (features done, features in the layer) while a layer is read."""

_PROGRESS_EVERY = 500
_MAX_LISTED = 10


def read_layer(
    path: str | PathLike[str],
    *,
    layer: str | None = None,
    crs: str | int | None = None,
    kind: LayerKind | str | None = None,
    mapping: KindMapping | None = None,
    site_origin: LocalFrame | tuple[float, float] | None = None,
    progress: Progress | None = None,
    far_km: float = 5.0,
    swap_axes: bool = False,
    convert_gcj02: bool = False,
    skip_rejected: bool = False,
) -> GisLayer:
    """Read, validate, reproject to EPSG:4326 and classify one layer of a GIS file.

    ``crs`` is used when the file has none (or overrides it); ``site_origin`` is (lat, lon) or the
    site's frame, and enables the far-feature and swapped-axes checks. Rejected geometries (null,
    empty, non-finite) fail the import unless ``skip_rejected``, when they are left out and reported.
    """
    file = Path(path)
    layer_kind = _layer_kind(file, kind)
    source = open_source(file, layer=layer, crs=crs, convert_gcj02=convert_gcj02)
    frame, gdal_notes = read_frame(source)
    total = len(frame)
    origin = _origin(site_origin)
    indices = list(range(total))
    issues = [Issue(IssueCode.NOTE, Severity.INFO, f"{file.name}: {n}") for n in (*source.notes, *gdal_notes)]
    if source.crs is None:
        issues.append(
            Issue(
                IssueCode.GCJ02_CONVERTED,
                Severity.WARNING,
                f"{file.name}: GCJ-02 converted to WGS84 with the published approximation (about 1 m)",
            )
        )

    checked = check_geometries(list(frame.geometry.values), indices)
    issues += checked.issues
    _refuse_rejected(file, checked.rejected, skip_rejected)
    geometries = list(checked.geometries)

    swapped = _looks_swapped(geometries, source, origin, far_km)
    if swapped and not swap_axes:
        raise GisImportError(
            f"{file.name}: latitude and longitude look swapped ({swapped}); "
            "fix the export or pass swap_axes=True"
        )
    if swap_axes:
        geometries = [None if g is None else _swap(g) for g in geometries]
        issues.append(
            Issue(
                IssueCode.SWAPPED_AXES,
                Severity.WARNING,
                f"{file.name}: x and y swapped on request" + (f" ({swapped})" if swapped else ""),
            )
        )

    geometries, lost = _to_wgs84(geometries, source)
    issues += lost
    _refuse_rejected(file, lost, skip_rejected)
    if origin is not None:
        issues += far_from_site(geometries, indices, origin, far_km)
    mixed = mixed_types(geometries, indices)
    if mixed is not None:
        issues.append(mixed)

    features = _features(frame, geometries, mapping or DEFAULT_MAPPING, layer_kind, progress)
    return GisLayer(
        source=file.name,
        name=source.layer,
        source_crs=source.crs_label,
        source_srid=_srid(source.crs),
        features=features,
        issues=tuple(sorted(issues, key=lambda i: (i.feature_index is not None, i.feature_index or 0))),
    )


def _layer_kind(file: Path, kind: LayerKind | str | None) -> LayerKind | None:
    if kind is None or isinstance(kind, LayerKind):
        return kind
    try:
        return LayerKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in LayerKind)
        raise GisImportError(f"{file.name}: unknown layer kind {kind!r} (one of {known})") from None


def _origin(site_origin: LocalFrame | tuple[float, float] | None) -> tuple[float, float] | None:
    if isinstance(site_origin, LocalFrame):
        return site_origin.lat, site_origin.lon
    return site_origin


def _refuse_rejected(file: Path, issues: Sequence[Issue], skip: bool) -> None:
    rejected = [i for i in issues if i.code is IssueCode.REJECTED]
    if rejected and not skip:
        listed = "; ".join(i.message for i in rejected[:_MAX_LISTED])
        more = f" (and {len(rejected) - _MAX_LISTED} more)" if len(rejected) > _MAX_LISTED else ""
        raise GisImportError(f"{file.name}: {len(rejected)} feature(s) rejected: {listed}{more}")


def _swap(geometry: BaseGeometry) -> BaseGeometry:
    swapped: BaseGeometry = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    return swapped


def _looks_swapped(
    geometries: Sequence[BaseGeometry | None],
    source: OpenedSource,
    origin: tuple[float, float] | None,
    far_km: float,
) -> str | None:
    """Say why the axes look swapped, or None: impossible latitudes, or a site only found swapped."""
    present = [g for g in geometries if g is not None]
    if not present:
        return None
    bounds = tuple(float(b) for b in shapely.total_bounds(present))
    geographic = source.crs is None or source.crs.is_geographic
    if geographic and looks_swapped_geographic((bounds[0], bounds[1], bounds[2], bounds[3])):
        worst = max(abs(bounds[1]), abs(bounds[3]))
        return f"latitudes up to {worst:.4f}° are impossible, as longitudes they fit"
    if origin is None:
        return None
    centre_x, centre_y = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    as_read = _centre_km(centre_x, centre_y, source, origin)
    as_swapped = _centre_km(centre_y, centre_x, source, origin)
    if as_read > far_km and as_swapped <= far_km:
        return (
            f"the layer lies {as_read:.0f} km from the site as read, {as_swapped:.1f} km with x and y swapped"
        )
    return None


def _centre_km(x: float, y: float, source: OpenedSource, origin: tuple[float, float]) -> float:
    lon, lat = _point_to_wgs84(x, y, source)
    return distance_km(lon, lat, origin[0], origin[1])


def _point_to_wgs84(x: float, y: float, source: OpenedSource) -> tuple[float, float]:
    if source.crs is None:
        lon, lat = gcj02_to_wgs84([x], [y])
        return float(lon[0]), float(lat[0])
    lon, lat = _transformer(source.crs).transform(x, y)
    return float(lon), float(lat)


def _transformer(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _to_wgs84(
    geometries: list[BaseGeometry | None], source: OpenedSource
) -> tuple[list[BaseGeometry | None], list[Issue]]:
    """Reproject every geometry, repairing again; one outside the target's domain is rejected by index."""
    if source.crs is None:

        def convert(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    elif source.crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return geometries, []
    else:
        transformer = _transformer(source.crs)

        def convert(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    result: list[BaseGeometry | None] = []
    lost: list[Issue] = []
    for index, geometry in enumerate(geometries):
        projected = None if geometry is None else shapely.transform(geometry, convert)
        if projected is not None and not np.isfinite(shapely.get_coordinates(projected)).all():
            lost.append(
                Issue(
                    IssueCode.REJECTED,
                    Severity.ERROR,
                    f"feature {index}: cannot be reprojected from {source.crs_label} to EPSG:4326",
                    index,
                )
            )
            projected = None
        if projected is not None:
            # A polygon valid where it was drawn can touch itself once its vertices move a little.
            projected, issue = repair(projected, index, when=" after reprojection")
            if issue is not None:
                lost.append(issue)
        result.append(projected)
    return result, lost


def _srid(crs: CRS | None) -> int | None:
    if crs is None:
        return None
    try:
        return crs_to_srid(crs)
    except CrsError:
        return None


def _features(
    frame: gpd.GeoDataFrame,
    geometries: Sequence[BaseGeometry | None],
    mapping: KindMapping,
    layer_kind: LayerKind | None,
    progress: Progress | None,
) -> tuple[GisFeature, ...]:
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    fids = list(frame.index)
    total = len(records)
    features: list[GisFeature] = []
    for index, (record, geometry) in enumerate(zip(records, geometries, strict=True)):
        if geometry is not None:
            attributes = json_safe_record(record)
            kind, device_kind = mapping.classify(attributes, layer_kind)
            height, levels = (
                mapping.height_and_levels(attributes) if kind is FeatureKind.FOOTPRINT else (None, None)
            )
            features.append(
                GisFeature(
                    index=index,
                    source_id=mapping.source_id(attributes) or str(fids[index]),
                    kind=kind,
                    geometry=geometry,
                    attributes=attributes,
                    device_kind=device_kind,
                    height_m=height,
                    levels=levels,
                )
            )
        if progress is not None and ((index + 1) % _PROGRESS_EVERY == 0 or index + 1 == total):
            progress(index + 1, total)
    return tuple(features)
