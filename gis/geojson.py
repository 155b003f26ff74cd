"""Layers out as GeoJSON: RFC 7946 in WGS84 for maps, and the same shape in the site frame for 3D.

RFC 7946 asks for longitude/latitude order, exterior rings counter-clockwise (right-hand rule),
and advises 7 decimals (about 1 cm) — more is noise that costs bytes. The local variant carries
east/north metres rounded to the millimetre, with a ``frame`` member naming its origin and PROJ
definition; it is GeoJSON-shaped, not RFC 7946 (which allows no other CRS), and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import GisError
from gis.frame import LocalFrame
from gis.model import GisFeature, GisLayer

BBox = tuple[float, float, float, float]
Collection = dict[str, Any]


def feature_collection(
    features: GisLayer | Iterable[GisFeature], *, bbox: BBox | None = None, precision: int = 7
) -> Collection:
    """Return an RFC 7946 FeatureCollection, keeping only features that meet ``bbox`` (W, S, E, N)."""
    return _collection(_selected(features, bbox), lambda g: g, precision, extra={})


def local_feature_collection(
    features: GisLayer | Iterable[GisFeature],
    frame: LocalFrame,
    *,
    bbox: BBox | None = None,
    precision: int = 3,
) -> Collection:
    """Return the same collection in the site's east/north metres, ``bbox`` still given in WGS84."""
    extra = {"frame": {"origin": [frame.lon, frame.lat, frame.height], "proj": frame.proj_string()}}
    return _collection(_selected(features, bbox), frame.to_local, precision, extra=extra)


def dumps(collection: Collection) -> bytes:
    """Return the collection as compact UTF-8 JSON (Chinese names stay readable, not escaped)."""
    return orjson.dumps(collection)


def _selected(features: GisLayer | Iterable[GisFeature], bbox: BBox | None) -> list[GisFeature]:
    items = list(features.features if isinstance(features, GisLayer) else features)
    if bbox is None:
        return items
    west, south, east, north = _checked_bbox(bbox)
    window = shapely.box(west, south, east, north)
    return [f for f in items if shapely.intersects(f.geometry, window)]


def _checked_bbox(bbox: BBox) -> BBox:
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise GisError(f"bbox must be four finite numbers west,south,east,north; got {bbox!r}")
    west, south, east, north = values
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise GisError(
            f"bbox {bbox!r} is not west,south,east,north in degrees (west ≤ east, south ≤ north; "
            "boxes across the antimeridian are not supported)"
        )
    return west, south, east, north


def _collection(
    features: list[GisFeature], project: Any, precision: int, extra: dict[str, Any]
) -> Collection:
    out: list[dict[str, Any]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for feature in features:
        geometry = _rounded(shapely.orient_polygons(project(feature.geometry)), precision)
        box = tuple(round(float(v), precision) for v in geometry.bounds)
        boxes.append((box[0], box[1], box[2], box[3]))
        out.append(
            {
                "type": "Feature",
                "id": feature.source_id,
                "bbox": list(box),
                "geometry": orjson.loads(shapely.to_geojson(geometry)),
                "properties": _properties(feature),
            }
        )
    collection: Collection = {"type": "FeatureCollection", **extra}
    if boxes:
        stacked = np.asarray(boxes)
        collection["bbox"] = [
            float(stacked[:, 0].min()),
            float(stacked[:, 1].min()),
            float(stacked[:, 2].max()),
            float(stacked[:, 3].max()),
        ]
    collection["features"] = out
    return collection


def _rounded(geometry: BaseGeometry, precision: int) -> BaseGeometry:
    rounded: BaseGeometry = shapely.transform(geometry, lambda xy: np.round(xy, precision))
    return rounded


def _properties(feature: GisFeature) -> dict[str, Any]:
    return {
        "index": feature.index,
        "kind": feature.kind.value,
        "device_kind": feature.device_kind.value if feature.device_kind else None,
        "height_m": feature.height_m,
        "levels": feature.levels,
        "attributes": dict(feature.attributes),
    }
