"""Telemetry: a device's history and latest state, the discovered list, binding, rejects and ingest status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from twin.api.deps import SessionDep, require
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.catalogue import DeviceKind
from twin.graph.devices import get_device
from twin.graph.views import devices_public
from twin.schemas import DevicePublic, Id, Moment
from twin.store.base import utcnow
from twin.telemetry.discovered import bind_discovered, list_discovered, suggest
from twin.telemetry.live import LiveTelemetry, live_of
from twin.telemetry.series import SeriesRequest, series, stored_state

router = APIRouter(prefix="/api", tags=["telemetry"])
Binder = Annotated[Principal, Depends(require(Permission.GRAPH_WRITE))]
Integrator = Annotated[Principal, Depends(require(Permission.IMPORT_RUN))]


class StateValue(BaseModel):
    """The latest value of one quantity."""

    quantity: str
    value: float | bool | str
    unit: str
    time: datetime


class DeviceStatePublic(BaseModel):
    """A device's health and latest values."""

    device_id: int
    health: str
    last_seen: datetime | None
    values: list[StateValue]


class HistoryPoint(BaseModel):
    """One bucket of a series: its start, the number of readings, and their aggregates."""

    t: datetime
    count: int
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    last: str | None = None
    """The last text value in the bucket, for text quantities."""


class HistoryPublic(BaseModel):
    """A device's history of one quantity, aggregated by step."""

    device_id: int
    quantity: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    step_s: int
    source: str
    """``raw`` or ``hourly+raw``: where the buckets were computed from."""
    points: list[HistoryPoint]


class DiscoveredPublic(BaseModel):
    """An identity that sent data but names no device."""

    namespace: str
    value: str
    profile: str
    topic: str
    first_seen: datetime
    last_seen: datetime
    messages: int
    latest: dict[str, Any]
    hint: dict[str, Any] | None
    suggestions: list[dict[str, Any]]


class BindRequest(BaseModel):
    """Bind a discovered identity to an existing device, or to a new device in a place."""

    namespace: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=200)
    device_id: Id | None = None
    place_id: Id | None = None
    kind: DeviceKind | None = None
    name: str | None = Field(default=None, max_length=200)


def _live(request: Request) -> LiveTelemetry | None:
    return live_of(request.app.state)


@router.get("/devices/{device_id}/state")
def device_state(request: Request, session: SessionDep, device_id: Id) -> DeviceStatePublic:
    """Return a device's health and latest value of each quantity (live values win when newer).

    Every field is sent, ``last_seen`` as null for a device never heard from: the schema requires it.
    """
    device = get_device(session, device_id)
    values = stored_state(session, device.id)
    health, last_seen = device.health, device.last_seen
    live = _live(request)
    if live is not None:
        for quantity, latest in live.latest(device.id).items():
            held = values.get(quantity)
            if held is None or held["time"] <= latest["time"]:
                values[quantity] = latest
        tracked = live.health_of(device.id)
        if tracked is not None:
            health, last_seen = tracked
    return DeviceStatePublic(
        device_id=device.id,
        health=health,
        last_seen=last_seen,
        values=[StateValue(quantity=q, **v) for q, v in sorted(values.items())],
    )


@router.get("/devices/{device_id}/history", response_model_by_alias=True, response_model_exclude_none=True)
def device_history(
    session: SessionDep,
    device_id: Id,
    quantity: Annotated[str, Query(min_length=1, max_length=64)],
    start: Annotated[Moment | None, Query(alias="from", description="ISO 8601 with a zone.")] = None,
    end: Annotated[Moment | None, Query(alias="to", description="ISO 8601 with a zone; default now.")] = None,
    step: Annotated[str | None, Query(description="30s, 5m, 1h, 1d, 1w; default: at most 500 points.")] = None,
    tz: Annotated[str, Query(description="Time zone of the bucket edges (daily buckets at its midnight).")] = "UTC",
) -> HistoryPublic:
    """Return a device's history of one quantity as buckets with average, minimum, maximum and count."""
    device = get_device(session, device_id)
    question = SeriesRequest.build(device.id, quantity, start, end, step, tz, utcnow())
    source, points = series(session, question)
    return HistoryPublic(
        device_id=device.id,
        quantity=quantity,
        start=question.start,
        end=question.end,
        step_s=int(question.step.total_seconds()),
        source=source,
        points=[HistoryPoint(**p) for p in points],
    )


@router.get("/ingest/unbound")
def unbound(
    session: SessionDep,
    _: Binder,
    profile: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, list[DiscoveredPublic]]:
    """List identities that sent data but name no device, with suggested places where their id spells one."""
    rows = list_discovered(session, limit, profile)
    suggestions = suggest(session, rows)
    return {
        "items": [
            DiscoveredPublic(
                namespace=r.namespace,
                value=r.value,
                profile=r.profile,
                topic=r.topic,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                messages=r.messages,
                latest=r.latest,
                hint=r.hint,
                suggestions=suggestions.get((r.namespace, r.value), []),
            )
            for r in rows
        ]
    }


@router.post("/ingest/unbound/bind")
def bind(session: SessionDep, _: Binder, body: BindRequest) -> DevicePublic:
    """Bind an identity to a device (or create the device in a place); its readings flow from then on."""
    device = bind_discovered(
        session,
        body.namespace,
        body.value,
        device_id=body.device_id,
        place_id=body.place_id,
        kind=body.kind,
        name=body.name,
    )
    return devices_public(session, [device])[0]


@router.get("/ingest/rejects")
def rejects(request: Request, _: Integrator) -> dict[str, Any]:
    """Show reject counts per profile and the latest samples per reason, as this server's ingest saw them."""
    live = _live(request)
    if live is None:
        return {"running": False, "profiles": {}, "samples": {}}
    return {"running": True, **live.reject_samples()}


@router.get("/ingest/status")
def status(request: Request, _: Integrator) -> dict[str, Any]:
    """Show the ingest's counters: received, decoded, written, rejected, unknown, spilled."""
    live = _live(request)
    return live.status() if live is not None else {"running": False}
