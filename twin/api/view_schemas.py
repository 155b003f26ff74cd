"""The shapes of what the 3D view loads: a site's scene and a floor's plan, in the site's local frame.

Declared so that the OpenAPI document, and the web types generated from it, say exactly what
the view receives; the routes still serialise with orjson (see ``twin.api.view``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

Ring = list[tuple[float, float]]
"""A polygon's outer ring, x east and y north in metres."""


class Origin(BaseModel):
    """Where the site frame's origin is on the earth."""

    lat: float
    lon: float
    height: float


class SceneSite(BaseModel):
    """The community the scene draws."""

    id: int
    name: str
    origin: Origin
    example_address: str | None = None
    """A household address the site has (its first unit one may see), which the search box offers
    as its example; null when it has none."""


class SceneFloor(BaseModel):
    """A storey as the view stacks it."""

    id: int
    name: str
    level: int
    elevation: float
    height: float


class SceneBuilding(BaseModel):
    """A building: its footprint (null when it has none), its storeys and where its models are listed."""

    id: int
    name: str
    code: str | None
    height: float | None
    footprint: Ring | None
    floors: list[SceneFloor]
    models_url: str


class BuildingCounters(BaseModel):
    """A building's figures when the scene was read; live alarms update the tint after that."""

    devices: int
    offline: int
    alarms: int
    """Open root alarms (a storm counts once)."""
    worst_severity: str | None
    """The most urgent severity among them, or null."""


class SceneLayers(BaseModel):
    """The ground layers as GeoJSON geometries in the site frame, and the site's boundary."""

    roads: list[dict[str, Any]]
    green: list[dict[str, Any]]
    parking: list[dict[str, Any]]
    water: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    parcels: list[dict[str, Any]]
    boundary: dict[str, Any] | None


class Scene(BaseModel):
    """``GET /api/sites/{id}/scene``: everything the site view draws, counters keyed by building id."""

    site: SceneSite
    buildings: list[SceneBuilding]
    layers: SceneLayers
    counters: dict[str, BuildingCounters]


class PlanFloor(SceneFloor):
    """The storey of a plan, with its building."""

    building_id: int
    outline: Ring | None


class PlanSpace(BaseModel):
    """A space of the plan: its kind, its address when it is a unit, its polygon."""

    id: int
    kind: str
    name: str
    address: str | None
    area: float | None
    polygon: Ring | None


class PlanDevice(BaseModel):
    """A device pin of the plan; ``position`` is null for a device not placed yet."""

    id: int
    kind: str
    name: str
    tag: str | None
    health: str
    last_seen: datetime | None
    space_id: int | None
    position: tuple[float, float, float] | None


class FloorPlan(BaseModel):
    """``GET /api/floors/{id}/plan``: the 2D plan and the device pins of one storey."""

    floor: PlanFloor
    spaces: list[PlanSpace]
    devices: list[PlanDevice]


class SpaceEnergy(BaseModel):
    """What one room used."""

    energy_kwh: float


class FloorLayers(BaseModel):
    """``GET /api/floors/{id}/layers``: each room's energy use over the last ``days``, keyed by space id."""

    floor_id: int
    since: datetime
    days: int
    spaces: dict[str, SpaceEnergy]
