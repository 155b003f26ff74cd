"""Which inspections are due: every target of every active plan, with its next due time and state.

A target (a device of a plan's kinds under its place, or a space the plan names) is next due one
interval after its last visit, or at the plan's start when never visited. It is *due* from then,
and *overdue* once a seventh of its interval has passed too (a day late for a weekly check, about
four days for a monthly one). Targets with something open on them (tickets, active alarms: the
sources of ``ATTENTION``) are worth a visit even before.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from twin.alarms.attention import active_alarms
from twin.auth.scope import Principal, device_condition, subtree_condition
from twin.operations.catalogue import ACTIVE_TICKET, DueState, Every
from twin.store.models import DeviceRow, PlaceRow, SpaceRow
from twin.store.operations import InspectionPlanRow, InspectionVisitRow, TicketRow

GRACE_FRACTION = 7
"""A visit may be a seventh of its interval late before it counts as overdue."""
_MONTHS = {Every.MONTH: 1, Every.QUARTER: 3, Every.YEAR: 12}


def add_every(at: datetime, every: Every) -> datetime:
    """Return the time one interval later; months keep their day, clamped (31 Jan → 28/29 Feb)."""
    if every is Every.DAY:
        return at + timedelta(days=1)
    if every is Every.WEEK:
        return at + timedelta(days=7)
    months = at.month - 1 + _MONTHS[every]
    year, month = at.year + months // 12, months % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def due_state(due_at: datetime, every: Every, now: datetime) -> tuple[DueState, int]:
    """Return whether a target is up to date, due or overdue at ``now``, and its days past due."""
    if now < due_at:
        return DueState.OK, 0
    grace = (add_every(due_at, every) - due_at) / GRACE_FRACTION
    if now < due_at + grace:
        return DueState.DUE, 0
    return DueState.OVERDUE, (now - due_at).days


Key = tuple[str, int]
"""A target's identity for attention: ("device", id) or ("space", id)."""
AttentionSource = Callable[[Session, Sequence[int], Sequence[int]], dict[Key, list[str]]]
"""Given device and space ids, name what is open on each (``ticket:12``, ``alarm:7``)."""


def open_tickets(session: Session, device_ids: Sequence[int], space_ids: Sequence[int]) -> dict[Key, list[str]]:
    """Name the active tickets on these devices and spaces."""
    out: dict[Key, list[str]] = {}
    active = [s.value for s in ACTIVE_TICKET]
    query = select(TicketRow.id, TicketRow.device_id, TicketRow.place_id).where(
        TicketRow.status.in_(active),
        or_(
            TicketRow.device_id.in_(list(device_ids)),
            TicketRow.device_id.is_(None) & TicketRow.place_id.in_(list(space_ids)),
        ),
    )
    for ticket_id, device_id, place_id in session.execute(query.order_by(TicketRow.id)):
        key: Key = ("device", device_id) if device_id is not None else ("space", place_id)
        out.setdefault(key, []).append(f"ticket:{ticket_id}")
    return out


ATTENTION: tuple[AttentionSource, ...] = (open_tickets, active_alarms)
"""What makes a target worth a visit before it is due: open tickets and active alarms on it."""


@dataclass
class Target:
    """One thing a plan covers, where an inspector stands to check it, and when it is due."""

    plan: InspectionPlanRow
    device_id: int | None
    space_id: int | None
    """Where to stand: the device's space, the nearest space on its floor, or the planned space."""
    floor_id: int | None
    name: str
    path: str
    kind: str
    last_visit: datetime | None
    due_at: datetime
    state: DueState
    overdue_days: int
    attention: list[str] = field(default_factory=list)

    @property
    def key(self) -> Key:
        """Return the target's identity for attention sources."""
        return ("device", self.device_id) if self.device_id is not None else ("space", self.space_id or 0)


def _plans(session: Session, under_path: str) -> list[InspectionPlanRow]:
    under = func.text2ltree(under_path)
    return list(
        session.scalars(
            select(InspectionPlanRow)
            .join(PlaceRow, PlaceRow.id == InspectionPlanRow.place_id)
            .where(InspectionPlanRow.active, or_(PlaceRow.path.op("<@")(under), PlaceRow.path.op("@>")(under)))
            .order_by(InspectionPlanRow.id)
        )
    )


def _plan_path(session: Session, plan: InspectionPlanRow) -> str:
    return str(session.scalar(select(PlaceRow.path).where(PlaceRow.id == plan.place_id)))


def standing_spaces(session: Session, device_ids: list[int]) -> dict[int, int]:
    """Return, for devices on a floor but in no space, the space to stand in: the nearest on their floor."""
    if not device_ids:
        return {}
    space = (
        select(SpaceRow.id)
        .where(SpaceRow.floor_id == DeviceRow.floor_id, SpaceRow.retired_at.is_(None))
        .order_by(
            func.ST_Distance(SpaceRow.polygon_local, func.ST_Force2D(DeviceRow.position_local)).nulls_last(),
            SpaceRow.space_kind != "corridor",
            SpaceRow.id,
        )
        .limit(1)
        .correlate(DeviceRow)
        .scalar_subquery()
    )
    rows = session.execute(select(DeviceRow.id, space).where(DeviceRow.id.in_(device_ids)))
    return {device_id: space_id for device_id, space_id in rows if space_id is not None}


def _target(plan: InspectionPlanRow, row: DeviceRow | SpaceRow, space_id: int | None) -> Target:
    return Target(
        plan=plan,
        device_id=row.id if isinstance(row, DeviceRow) else None,
        space_id=space_id,
        floor_id=row.floor_id,
        name=row.name,
        path=row.path,
        kind=row.kind if isinstance(row, DeviceRow) else "",
        last_visit=None,
        due_at=plan.starts_at,
        state=DueState.OK,
        overdue_days=0,
    )


def _targets_of(session: Session, plan: InspectionPlanRow, under_path: str) -> list[Target]:
    plan_path = _plan_path(session, plan)
    out: list[Target] = []
    if plan.device_kinds:
        devices = session.scalars(
            select(DeviceRow).where(
                DeviceRow.path.op("<@")(func.text2ltree(plan_path)),
                DeviceRow.path.op("<@")(func.text2ltree(under_path)),
                DeviceRow.kind.in_(plan.device_kinds),
                DeviceRow.retired_at.is_(None),
                device_condition(session, DeviceRow.path, DeviceRow.kind),
            )
        ).all()
        standing = standing_spaces(session, [d.id for d in devices if d.space_id is None])
        out += [_target(plan, d, d.space_id or standing.get(d.id)) for d in devices]
    if plan.space_ids:
        spaces = session.scalars(
            select(SpaceRow).where(
                SpaceRow.id.in_(plan.space_ids),
                SpaceRow.path.op("<@")(func.text2ltree(under_path)),
                SpaceRow.retired_at.is_(None),
                subtree_condition(session, SpaceRow.path),
            )
        ).all()
        out += [_target(plan, s, s.id) for s in spaces]
    return out


def _last_visits(session: Session, plan_ids: list[int]) -> dict[tuple[int, int | None, int | None], datetime]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(
            InspectionVisitRow.plan_id,
            InspectionVisitRow.device_id,
            InspectionVisitRow.space_id,
            func.max(InspectionVisitRow.at),
        )
        .where(InspectionVisitRow.plan_id.in_(plan_ids))
        .group_by(InspectionVisitRow.plan_id, InspectionVisitRow.device_id, InspectionVisitRow.space_id)
    )
    out: dict[tuple[int, int | None, int | None], datetime] = {}
    for plan_id, device_id, space_id, at in rows:
        key = (plan_id, device_id, None) if device_id is not None else (plan_id, None, space_id)
        out[key] = max(at, out.get(key, at))
    return out


def due_targets(
    session: Session,
    under_path: str,
    now: datetime,
    inspector: Principal | None = None,
    attention: Sequence[AttentionSource] = ATTENTION,
) -> list[Target]:
    """Return every target of the active plans under a place, with its state at ``now``.

    With an inspector, only what that inspector may see is returned (a round is for them).
    """
    plans = _plans(session, under_path)
    targets = [t for plan in plans for t in _targets_of(session, plan, under_path)]
    if inspector is not None:
        targets = [t for t in targets if inspector.sees_device(t.path, t.kind)]
    last = _last_visits(session, [p.id for p in plans])
    for t in targets:
        visited = last.get((t.plan.id, t.device_id, None if t.device_id is not None else t.space_id))
        every = Every(t.plan.every)
        t.last_visit = visited
        t.due_at = add_every(visited, every) if visited is not None else t.plan.starts_at
        t.state, t.overdue_days = due_state(t.due_at, every, now)
    devices = sorted({t.device_id for t in targets if t.device_id is not None})
    spaces = sorted({t.space_id for t in targets if t.device_id is None and t.space_id is not None})
    for source in attention:
        found = source(session, devices, spaces)
        for t in targets:
            t.attention.extend(found.get(t.key, []))
    return targets
