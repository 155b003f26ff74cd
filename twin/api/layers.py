"""A site's GIS layers out as GeoJSON: RFC 7946 in WGS84 for maps, or in the site frame for the 3D view.

RFC 7946: longitude/latitude, exterior rings counter-clockwise (``ST_ForcePolygonCCW``), 7
decimals (about 1 cm), a string ``id`` per feature and the collection's ``bbox``. With
``frame=local`` the coordinates are east/north metres of the site frame (mm), transformed in
PostGIS with the frame's one PROJ definition; that variant says so in a ``frame`` member and is
GeoJSON-shaped, not RFC 7946 (which allows no other CRS). ``bbox`` filters are always WGS84.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from sqlalchemy import ColumnElement, Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSON

from twin.api.deps import SessionDep
from twin.auth.scope import place_condition
from twin.errors import NotFoundError, ValidationError
from twin.graph.frame import local_frame_proj
from twin.graph.places import get_place
from twin.store.gis_layers import GisFeatureRow
from twin.store.models import SiteRow

router = APIRouter(prefix="/api", tags=["layers"])
GEOJSON = "application/geo+json"
Frame = Literal["wgs84", "local"]


@router.get("/sites/{site_id}/layers")
def list_layers(session: SessionDep, site_id: int) -> dict[str, list[dict[str, Any]]]:
    """List a site's layers: name, feature count by kind, and WGS84 bbox."""
    site = get_place(session, SiteRow, site_id, "site")
    where = (GisFeatureRow.site_id == site.id, place_condition(session, GisFeatureRow.path))
    kinds: dict[str, dict[str, int]] = {}
    for layer, kind, count in session.execute(
        select(GisFeatureRow.layer, GisFeatureRow.kind, func.count())
        .where(*where)
        .group_by(GisFeatureRow.layer, GisFeatureRow.kind)
    ):
        kinds.setdefault(layer, {})[kind] = count
    boxes = session.execute(
        select(GisFeatureRow.layer, *_extent(GisFeatureRow.geom)).where(*where).group_by(GisFeatureRow.layer)
    )
    bbox = {row[0]: [round(float(v), 7) for v in row[1:]] for row in boxes}
    items = [
        {"name": name, "count": sum(counts.values()), "kinds": counts, "bbox": bbox.get(name)}
        for name, counts in sorted(kinds.items())
    ]
    return {"items": items}


@router.get("/sites/{site_id}/layers/{name}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def read_layer(
    session: SessionDep,
    site_id: int,
    name: str,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees (WGS84).")] = None,
    frame: Annotated[Frame, Query(description="wgs84 (RFC 7946) or local (site frame metres).")] = "wgs84",
) -> Response:
    """Return one layer as a FeatureCollection, optionally only the features meeting a bbox."""
    site = get_place(session, SiteRow, site_id, "site")
    where: list[ColumnElement[bool]] = [
        GisFeatureRow.site_id == site.id,
        GisFeatureRow.layer == name,
        place_condition(session, GisFeatureRow.path),
    ]
    if session.scalar(select(func.count()).select_from(GisFeatureRow).where(*where[:2])) == 0:
        raise NotFoundError(f"layer {name!r} of site {site.id} not found")
    if bbox is not None:
        window = func.ST_MakeEnvelope(*_bbox(bbox), 4326)
        where += [GisFeatureRow.geom.op("&&")(window), func.ST_Intersects(GisFeatureRow.geom, window)]
    proj = local_frame_proj(site.origin_lat, site.origin_lon, site.origin_height)
    geometry: Any = GisFeatureRow.geom
    if frame == "local":
        geometry = func.ST_Transform(geometry, cast(literal(proj), Text))
    digits = 3 if frame == "local" else 7
    feature = func.json_build_object(
        "type", "Feature",
        "id", GisFeatureRow.source_id,
        "geometry", cast(func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(geometry), digits, 0), JSON),
        "properties", func.json_build_object(
            "kind", GisFeatureRow.kind,
            "device_kind", GisFeatureRow.device_kind,
            "name", GisFeatureRow.name,
            "index", GisFeatureRow.feature_index,
            "place_id", GisFeatureRow.place_id,
            "device_id", GisFeatureRow.device_id,
            "attributes", GisFeatureRow.attrs,
        ),
    )  # fmt: skip
    texts = [str(t) for t in session.scalars(select(cast(feature, Text)).where(*where).order_by(GisFeatureRow.id))]
    head: dict[str, Any] = {"type": "FeatureCollection", "name": name}
    if frame == "local":
        head["frame"] = {"origin": [site.origin_lon, site.origin_lat, site.origin_height], "proj": proj}
    box = session.execute(select(*_extent(geometry)).where(*where)).one()
    if texts and box[0] is not None:
        head["bbox"] = [round(float(v), digits) for v in box]
    body = orjson.dumps(head)[:-1] + b',"features":[' + ",".join(texts).encode() + b"]}"
    return Response(body, media_type=GEOJSON)


def _extent(geometry: Any) -> list[Any]:
    """Return the west, south, east and north of an aggregate of geometries, as four columns."""
    extent = func.ST_Extent(geometry)
    return [func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)]


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValidationError("bbox", "must be four numbers: west,south,east,north in degrees")
    west, south, east, north = values
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationError("bbox", "must be west,south,east,north with west ≤ east and south ≤ north, in degrees")
    return west, south, east, north
