"""The graph as the API speaks it: XCreate / XUpdate / XPublic, never ORM rows.

Local-frame geometry (east, north, up in metres around the site origin) travels as GeoJSON
geometry objects whose coordinates are metres; map geometry (``footprint``, ``boundary``) is RFC
7946 GeoJSON in WGS84. Every node carries its location path, site first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from twin.catalogue import DeviceHealth, DeviceKind, RelationKind, SpaceKind

GeoJSON = dict[str, Any]


def _whole(value: Any) -> Any:
    """Refuse a boolean or a fractional number where a whole number is expected (pydantic's lax mode takes them)."""
    if isinstance(value, bool | float):
        raise ValueError(f"give a whole number, not {value!r}")
    return value


_TRUTH = {"true": True, "false": False}


def _flag(value: Any) -> Any:
    """Take only true or false for a yes/no (never 0, 1, yes or on, which a typo or a number can be)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUTH:
        return _TRUTH[value.lower()]
    raise ValueError(f"give true or false, not {value!r}")


def _moment(value: Any) -> Any:
    """Take a time only as ISO 8601 (a bare number would be read as seconds since 1970)."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"give an ISO 8601 time, not the number {value!r}")
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError(f"give an ISO 8601 time, not the number {value!r}")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
"""An integer, given as one: neither true/false nor 1.0."""
Flag = Annotated[bool, BeforeValidator(_flag)]
"""A yes/no given as true or false, in a body or a query."""
Moment = Annotated[datetime, BeforeValidator(_moment)]
"""A time given as ISO 8601, in a body or a query."""
Id = Annotated[int, BeforeValidator(_whole), Ge(1), Le(2**63 - 1)]
"""An id of the store: a positive bigint, so a too-large number is a 422, never a database error."""


class Strict(BaseModel):
    """Refuse unknown fields: a typo in a request is an error, not a silently ignored key."""

    model_config = ConfigDict(extra="forbid")


class PathItem(BaseModel):
    """One step of a location path."""

    kind: Literal["site", "building", "floor", "space"]
    id: int
    name: str


class Identifier(Strict):
    """An external name: (namespace, value), e.g. ("ifc", GlobalId) or ("mqtt", "z2m/0x00158d…")."""

    namespace: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_.-]*$")
    value: str = Field(min_length=1, max_length=200)


class SiteCreate(Strict):
    """A new community and its geodetic origin."""

    name: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    origin_lat: float = Field(ge=-90, le=90)
    origin_lon: float = Field(ge=-180, le=180)
    origin_height: float = 0.0
    boundary: GeoJSON | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[Identifier] = Field(default_factory=list)


class BuildingCreate(Strict):
    """A new building on a site."""

    site_id: Id
    name: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=64)
    footprint_local: GeoJSON | None = None
    height: float | None = Field(default=None, gt=0, le=1000)
    address: str | None = None
    floors_above: int | None = Field(default=None, ge=0, le=300)
    floors_below: int | None = Field(default=None, ge=0, le=20)
    properties: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[Identifier] = Field(default_factory=list)


class FloorCreate(Strict):
    """A new storey of a building."""

    building_id: Id
    name: str = Field(min_length=1, max_length=200)
    level: int = Field(ge=-20, le=300)
    elevation: float
    height: float = Field(default=3.0, gt=0, le=100)
    outline_local: GeoJSON | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[Identifier] = Field(default_factory=list)


class SpaceCreate(Strict):
    """A new space on a floor; a unit gives its address (any common spelling)."""

    floor_id: Id
    name: str = Field(min_length=1, max_length=200)
    kind: SpaceKind = SpaceKind.ROOM
    polygon_local: GeoJSON | None = None
    area: float | None = Field(default=None, ge=0)
    address: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[Identifier] = Field(default_factory=list)


class PlaceUpdate(Strict):
    """A change to any place: only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = None
    parent_id: Id | None = None
    properties: dict[str, Any] | None = None


class DeviceCreate(Strict):
    """A new device in a space, on a floor or on the site."""

    place_id: Id
    kind: DeviceKind
    name: str = Field(min_length=1, max_length=200)
    tag: str | None = Field(default=None, max_length=64)
    position: tuple[float, float, float] | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[Identifier] = Field(default_factory=list)


class DeviceUpdate(Strict):
    """A change to a device: move it, rename it, change its properties."""

    place_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tag: str | None = None
    position: tuple[float, float, float] | None = None
    properties: dict[str, Any] | None = None


class RelationCreate(Strict):
    """A typed link from a device to a place or another device."""

    kind: RelationKind
    source_device_id: Id
    target_place_id: Id | None = None
    target_device_id: Id | None = None


class PlacePublic(BaseModel):
    """Any place, with what every level has."""

    id: int
    kind: str
    name: str
    code: str | None
    parent_id: Id | None
    path: list[PathItem]
    properties: dict[str, Any]
    identifiers: list[Identifier] = Field(default_factory=list)


class PlaceList(BaseModel):
    """Places with what every level has; read one by id for what its level adds."""

    items: list[PlacePublic]


class SitePublic(PlacePublic):
    """A community."""

    origin: dict[str, float]
    boundary: GeoJSON | None


class BuildingPublic(PlacePublic):
    """A building."""

    footprint: GeoJSON | None
    footprint_local: GeoJSON | None
    height: float | None
    address: str | None
    floors_above: int | None
    floors_below: int | None


class FloorPublic(PlacePublic):
    """A storey."""

    building_id: Id
    level: int
    elevation: float
    height: float
    outline_local: GeoJSON | None


class SpacePublic(PlacePublic):
    """A space; units carry their normalised address."""

    floor_id: Id
    space_kind: str
    polygon_local: GeoJSON | None
    area: float | None
    address: str | None


class DevicePublic(BaseModel):
    """A device with its place."""

    id: int
    kind: str
    name: str
    tag: str | None
    place_id: Id
    floor_id: Id | None
    space_id: Id | None
    position: tuple[float, float, float] | None
    path: list[PathItem]
    health: DeviceHealth
    last_seen: datetime | None
    properties: dict[str, Any]
    identifiers: list[Identifier] = Field(default_factory=list)
    distance: float | None = None
    """Metres from the query point, for radius and nearest queries."""


class DevicePage(BaseModel):
    """One page of devices; pass ``next`` as ``cursor`` for the next page."""

    items: list[DevicePublic]
    next: str | None


class RelationPublic(BaseModel):
    """A typed link."""

    id: int
    kind: str
    source_device_id: Id
    target_place_id: Id | None
    target_device_id: Id | None


class RouteStep(BaseModel):
    """One space on a walking route and how it was entered."""

    space_id: Id
    name: str
    floor_id: Id
    via: str | None
    edge_kind: str | None
    length: float


class Route(BaseModel):
    """A shortest walking route between two spaces."""

    length: float
    steps: list[RouteStep]


class SearchHit(BaseModel):
    """A place or device matching a search."""

    type: Literal["unit", "space", "device", "site", "building", "floor"]
    id: int
    name: str
    path: list[PathItem]
    floor_id: Id | None
    position: tuple[float, float, float] | None
