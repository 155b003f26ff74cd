"""Write a generated community's map as GeoJSON layers: boundary, footprints, roads, greens, POIs.

The roads layer holds the footways to every entrance beside the roads (``highway=footway``): the
import joins the buildings' entrances by them, so routes and inspection rounds cross the site.

The layers are what a surveyor or the city would hand a property company, in WGS84 as RFC 7946
requires, with the attributes the GIS reader classifies (``building``, ``highway``, a ``type``
column) and each footprint's ``bim_id`` naming the IfcBuilding it outlines, so an import links
the map to the model by id rather than by overlap. Coordinates come from the plan's site frame
through :class:`gis.frame.LocalFrame`, the same transform the import uses to come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from gis.frame import LocalFrame
from twin.scenes.plan import Community, Rect

LAYERS = ("boundary", "footprints", "roads", "greens", "pois")
KINDS = {"boundary": "zones", "footprints": "footprints", "roads": "roads", "greens": "zones", "pois": "pois"}
"""Each layer's file stem and the layer kind an import of it is told."""


@dataclass(frozen=True, slots=True)
class GisSummary:
    """The files written and how many features each holds."""

    files: dict[str, Path]
    counts: dict[str, int]


def write_layers(community: Community, folder: Path) -> GisSummary:
    """Write the community's layers as ``<folder>/<layer>.geojson``; return what was written."""
    site = community.site
    frame = LocalFrame(site.latitude, site.longitude, site.height)
    layers: dict[str, list[tuple[dict[str, Any], BaseGeometry]]] = {
        "boundary": [({"id": "boundary", "name": site.name, "landuse": "residential"}, _rect(community.boundary))],
        "footprints": [
            (
                {
                    "id": building.key,
                    "name": building.name,
                    "building": "residential" if building.use == "tower" else "yes",
                    "levels": len(building.storeys),
                    "height": round(building.height, 2),
                    "bim_id": community.guid(building.key),
                },
                _rect(building.rect),
            )
            for building in community.buildings
            if building.use != "garage"
        ],
        "roads": [
            ({"id": f"R{i}", "name": road.name, "highway": road.highway, "width": road.width}, LineString(road.line))
            for i, road in enumerate(community.roads, start=1)
        ],
        "greens": [
            ({"id": f"G{i}", "name": f"绿地 {i}", "type": "green"}, _rect(rect))
            for i, rect in enumerate(community.greens, start=1)
        ],
        "pois": [({"id": poi.tag, "name": poi.name, "type": poi.type}, Point(poi.position)) for poi in community.pois],
    }
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for name, rows in layers.items():
        frame_rows = [attributes for attributes, _ in rows]
        geometries = [frame.to_wgs84(geometry) for _, geometry in rows]
        table = gpd.GeoDataFrame(frame_rows, geometry=geometries, crs="EPSG:4326")
        path = folder / f"{name}.geojson"
        partial = path.with_name(path.name + ".partial")
        table.to_file(partial, driver="GeoJSON", COORDINATE_PRECISION=8)
        partial.replace(path)
        files[name], counts[name] = path, len(rows)
    return GisSummary(files, counts)


def _rect(rect: Rect) -> BaseGeometry:
    return box(*rect)
