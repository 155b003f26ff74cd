"""Inspections as the API speaks them: plans, due targets, rounds with their stops, visits, planned against walked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from twin.catalogue import DeviceKind
from twin.operations.catalogue import DueState, Every, Outcome, TicketCategory, TicketPriority
from twin.operations.schemas import Strict, Text200
from twin.schemas import Id


class PlanCreate(Strict):
    """What to inspect under a place, and how often: devices of some kinds, or named spaces."""

    place_id: Id
    name: Text200
    every: Every
    device_kinds: list[DeviceKind] | None = Field(default=None, min_length=1, max_length=32)
    space_ids: list[Id] | None = Field(default=None, min_length=1, max_length=500)
    checklist: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=50)
    minutes_per_stop: float = Field(default=5.0, ge=0, le=480)
    starts_at: datetime | None = None


class PlanUpdate(Strict):
    """Pause, resume or re-time a plan."""

    active: bool | None = None
    every: Every | None = None
    minutes_per_stop: float | None = Field(default=None, ge=0, le=480)
    checklist: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(default=None, max_length=50)


class PlanPublic(BaseModel):
    """An inspection plan."""

    id: int
    site_id: int
    place_id: int
    name: str
    every: Every
    device_kinds: list[str] | None
    space_ids: list[int] | None
    checklist: list[str]
    minutes_per_stop: float
    starts_at: datetime
    active: bool


class DueTarget(BaseModel):
    """A device or space a plan covers, with when it is next due and whether that is past."""

    plan_id: int
    plan: str
    device_id: int | None
    space_id: int | None
    floor_id: int | None
    name: str
    last_visit: datetime | None
    due_at: datetime
    state: DueState
    overdue_days: int
    attention: list[str]


class RoundCreate(Strict):
    """Plan a round for an inspector under a place, within a time budget."""

    place_id: Id
    inspector: str = Field(min_length=1, max_length=64)
    budget_minutes: float = Field(gt=0, le=24 * 60)
    start_space_id: Id | None = None


class StopPublic(BaseModel):
    """A planned stop in walking order, why it was chosen, and the walk to reach it."""

    id: int
    seq: int
    plan_id: int
    device_id: int | None
    space_id: int
    floor_id: int | None
    name: str
    reason: str
    due_at: datetime
    leg_length: float
    leg: list[int]
    """The spaces walked through from the previous stop (or the start) to this one."""
    visit: VisitPublic | None


class SkippedTarget(BaseModel):
    """A candidate the round left out, and why (over budget, or no walking route to it)."""

    plan_id: int
    device_id: int | None
    space_id: int | None
    reason: str


class VisitCreate(Strict):
    """What the inspector found: ok, or a defect (which opens a ticket)."""

    outcome: Outcome
    note: str | None = Field(default=None, max_length=2000)
    at: datetime | None = None
    category: TicketCategory | None = None
    priority: TicketPriority = TicketPriority.NORMAL


class AdHocVisitCreate(VisitCreate):
    """A visit outside any round: the plan and its target (a device, or a space of the plan)."""

    plan_id: Id
    device_id: Id | None = None
    space_id: Id | None = None


class VisitPublic(BaseModel):
    """A recorded visit."""

    id: int
    plan_id: int
    device_id: int | None
    space_id: int
    round_id: int | None
    stop_id: int | None
    at: datetime
    inspector: str
    outcome: Outcome
    note: str | None
    ticket_id: int | None


class WalkedReport(BaseModel):
    """What was planned against what was walked."""

    planned_stops: int
    visited_stops: int
    missed_stop_ids: list[int]
    out_of_order: int
    """Visits recorded in another order than planned (how many stops were taken early)."""
    planned_length: float
    walked_length: float | None
    """The walking distance in the order the stops were recorded; None when fewer than two."""
    planned_minutes: float
    walked_minutes: float | None
    defects: int


class RoundPublic(BaseModel):
    """A round: its stops in order, length and estimated time, and how it went."""

    id: int
    site_id: int
    place_id: int
    inspector: str
    planned_by: str
    budget_minutes: float
    start_space_id: int | None
    status: str
    length: float
    walk_minutes: float
    stop_minutes: float
    estimated_minutes: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stops: list[StopPublic]
    skipped: list[SkippedTarget] = []
    walked: WalkedReport | None = None


StopPublic.model_rebuild()
