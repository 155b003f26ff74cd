"""Geometry at the API border: GeoJSON in, validated shapely, stored with the right SRID, GeoJSON out."""

from __future__ import annotations

import math
from typing import Any

import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from twin.errors import ValidationError

LOCAL_SRID = 0
WGS84 = 4326


def parse(field: str, geojson: dict[str, Any] | None, expected: tuple[str, ...]) -> BaseGeometry | None:
    """Read a GeoJSON geometry, refusing wrong types, empty, non-finite and invalid shapes by field."""
    if geojson is None:
        return None
    try:
        geom = shape(geojson)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise ValidationError(field, f"not a GeoJSON geometry ({exc})") from exc
    if geom.geom_type not in expected:
        raise ValidationError(field, f"must be a {' or '.join(expected)}, got {geom.geom_type}")
    if geom.is_empty:
        raise ValidationError(field, "is empty")
    if (
        not all(math.isfinite(c) for c in shapely.get_coordinates(geom, include_z=True).ravel() if not math.isnan(c))
        or shapely.get_coordinates(geom).size == 0
    ):
        raise ValidationError(field, "has non-finite coordinates")
    if not geom.is_valid:
        raise ValidationError(field, f"is not a valid geometry: {shapely.is_valid_reason(geom)}")
    return geom


def to_db(geom: BaseGeometry | None, srid: int) -> WKBElement | None:
    """Wrap a shapely geometry for a column of the given SRID."""
    return None if geom is None else from_shape(geom, srid=srid)


def from_db(element: Any) -> BaseGeometry | None:
    """Unwrap a stored geometry."""
    return None if element is None else to_shape(element)


def to_geojson(element: Any, digits: int = 3) -> dict[str, Any] | None:
    """Return a stored geometry as a GeoJSON geometry object, rounded (mm in the local frame)."""
    geom = from_db(element)
    if geom is None:
        return None
    return dict(mapping(shapely.set_precision(geom, 10**-digits) if digits < 7 else geom))


def point_xyz(element: Any) -> tuple[float, float, float] | None:
    """Return a stored PointZ as (east, north, up) metres."""
    geom = from_db(element)
    if geom is None:
        return None
    return (round(geom.x, 3), round(geom.y, 3), round(geom.z if geom.has_z else 0.0, 3))
