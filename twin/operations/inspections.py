"""Use cases of inspections: plans (what, where, how often) and visits (what the inspector found).

A visit is recorded at a stop of a round or on its own, with its time and inspector; a defect
opens a ticket on the device (or space) at once, in the same transaction, so a defect is never
noted without the work that follows it. A round starts with its first visit and is done when
every stop has one, or when it is finished by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, subtree_condition
from twin.catalogue import DeviceKind
from twin.errors import NotFoundError, ValidationError
from twin.events import Action, RegistryEvent, record
from twin.graph.devices import get_device
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.operations.catalogue import DEFECT_CATEGORY, Outcome, TicketCategory
from twin.operations.inspection_due import standing_spaces
from twin.operations.inspection_schemas import PlanCreate, PlanUpdate, VisitCreate
from twin.operations.schemas import TicketCreate
from twin.operations.tickets import open_ticket
from twin.store.base import utcnow
from twin.store.models import PlaceRow, SpaceRow
from twin.store.operations import InspectionPlanRow, InspectionRoundRow, InspectionStopRow, InspectionVisitRow

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a handheld's time may be before a visit is refused."""


def _plan_path(session: Session, plan: InspectionPlanRow) -> str:
    return str(session.scalar(select(PlaceRow.path).where(PlaceRow.id == plan.place_id)))


def announce_plan(session: Session, action: Action, plan: InspectionPlanRow, before: dict[str, Any] | None) -> None:
    """Audit a plan's change and announce it to the screens of its place (a scene load changes plans too)."""
    path = _plan_path(session, plan)
    record(session, RegistryEvent(action, "inspection_plan", plan.id, scopes(path), {"name": plan.name}))
    audit(
        session,
        action=f"inspection_plan.{action}",
        kind="inspection_plan",
        object_id=plan.id,
        before=before,
        after=snapshot(plan),
    )


def create_plan(session: Session, data: PlanCreate) -> InspectionPlanRow:
    """Declare what to inspect under a place and how often; named spaces must lie under that place."""
    if not data.device_kinds and not data.space_ids:
        raise ValidationError("device_kinds", "name device kinds or spaces to inspect")
    place = get_place(session, PlaceRow, data.place_id, "place")
    check_allowed(session, Permission.INSPECTION_WRITE, place.path, f"place {place.id}")
    for space_id in data.space_ids or []:
        space = get_place(session, SpaceRow, space_id, "space")
        if not (space.path + ".").startswith(place.path + "."):
            raise ValidationError("space_ids", f"space {space_id} is not under place {place.id}")
    plan = InspectionPlanRow(
        site_id=place.site_id or place.id,
        place_id=place.id,
        name=data.name,
        every=data.every.value,
        device_kinds=[k.value for k in data.device_kinds] if data.device_kinds else None,
        space_ids=list(dict.fromkeys(data.space_ids)) if data.space_ids else None,
        checklist=list(data.checklist),
        minutes_per_stop=data.minutes_per_stop,
        starts_at=data.starts_at or utcnow(),
        active=True,
    )
    session.add(plan)
    session.flush()
    announce_plan(session, "create", plan, None)
    return plan


def get_plan(session: Session, plan_id: int) -> InspectionPlanRow:
    """Load a plan whose place the caller sees, or say there is none."""
    plan = session.get(InspectionPlanRow, plan_id)
    if plan is None:
        raise NotFoundError(f"inspection plan {plan_id} not found")
    try:
        get_place(session, PlaceRow, plan.place_id, "place")
    except NotFoundError:
        raise NotFoundError(f"inspection plan {plan_id} not found") from None
    return plan


def list_plans(session: Session, under: int | None = None) -> list[InspectionPlanRow]:
    """List the plans in the caller's scope (under a place, when given)."""
    query = select(InspectionPlanRow).join(PlaceRow, PlaceRow.id == InspectionPlanRow.place_id)
    query = query.where(subtree_condition(session, PlaceRow.path))
    if under is not None:
        path = get_place(session, PlaceRow, under, "place").path
        query = query.where(PlaceRow.path.op("<@")(func.text2ltree(path)))
    return list(session.scalars(query.order_by(InspectionPlanRow.id)))


def update_plan(session: Session, plan_id: int, data: PlanUpdate) -> InspectionPlanRow:
    """Pause, resume or re-time a plan."""
    plan = get_plan(session, plan_id)
    check_allowed(session, Permission.INSPECTION_WRITE, _plan_path(session, plan), f"inspection plan {plan.id}")
    before = snapshot(plan)
    for key, value in data.model_dump(exclude_none=True, mode="json").items():
        setattr(plan, key, value)
    session.flush()
    announce_plan(session, "update", plan, before)
    return plan


def _when(at: datetime | None) -> datetime:
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationError("at", "give the time with its offset (2024-05-03T09:30:00+08:00)")
    if at > now + CLOCK_SKEW:
        raise ValidationError("at", "a visit cannot be recorded in the future")
    return at


def _defect_ticket(
    session: Session, plan: InspectionPlanRow, device_id: int | None, space_id: int, body: VisitCreate
) -> int:
    category = body.category
    if category is None and device_id is not None:
        kind = get_device(session, device_id).kind
        category = DEFECT_CATEGORY.get(DeviceKind(kind), TicketCategory.OTHER)
    description = body.note or f"巡检发现缺陷 · {plan.name}"
    create = TicketCreate(
        device_id=device_id,
        place_id=None if device_id is not None else space_id,
        category=category or TicketCategory.OTHER,
        priority=body.priority,
        description=description,
    )
    return open_ticket(session, create, source="inspection").id


def _visit(
    session: Session,
    plan: InspectionPlanRow,
    device_id: int | None,
    space_id: int,
    body: VisitCreate,
    stop: InspectionStopRow | None = None,
) -> InspectionVisitRow:
    if device_id is not None:
        path = get_device(session, device_id).path
    else:
        path = get_place(session, SpaceRow, space_id, "space").path
    check_allowed(session, Permission.INSPECTION_WRITE, path, f"the target of plan {plan.id}")
    at = _when(body.at)
    ticket_id = _defect_ticket(session, plan, device_id, space_id, body) if body.outcome is Outcome.DEFECT else None
    visit = InspectionVisitRow(
        plan_id=plan.id,
        device_id=device_id,
        space_id=space_id,
        round_id=stop.round_id if stop else None,
        stop_id=stop.id if stop else None,
        at=at,
        inspector=str(session.info.get("actor") or "system"),
        outcome=body.outcome.value,
        note=body.note,
        ticket_id=ticket_id,
        client_key=body.key,
    )
    session.add(visit)
    session.flush()
    data = {"plan_id": plan.id, "outcome": visit.outcome, "round_id": visit.round_id, "ticket_id": ticket_id}
    record(session, RegistryEvent("create", "inspection_visit", visit.id, scopes(path, device_id), data))
    audit(session, action="inspection_visit.create", kind="inspection_visit", object_id=visit.id, after=snapshot(visit))
    return visit


def record_adhoc_visit(
    session: Session, plan_id: int, device_id: int | None, space_id: int | None, body: VisitCreate
) -> InspectionVisitRow:
    """Record a visit outside any round: a device of the plan's kinds under its place, or one of its spaces."""
    repeated = _repeated(session, body.key, None)
    if repeated is not None:
        return repeated
    plan = get_plan(session, plan_id)
    plan_path = _plan_path(session, plan)
    if (device_id is None) == (space_id is None):
        raise ValidationError("device_id", "give exactly one of device_id and space_id")
    if device_id is not None:
        device = get_device(session, device_id)
        if device.kind not in (plan.device_kinds or []) or not (device.path + ".").startswith(plan_path + "."):
            raise ValidationError("device_id", f"device {device_id} is not covered by plan {plan.id}")
        where = device.space_id or standing_spaces(session, [device.id]).get(device.id)
        if where is None:
            raise ValidationError("device_id", f"device {device_id} is in no space and on no floor with spaces")
        return _visit(session, plan, device.id, where, body)
    if space_id not in (plan.space_ids or []):
        raise ValidationError("space_id", f"space {space_id} is not covered by plan {plan.id}")
    return _visit(session, plan, None, space_id or 0, body)


def get_round(session: Session, round_id: int) -> InspectionRoundRow:
    """Load a round whose place the caller sees, or say there is none."""
    row = session.get(InspectionRoundRow, round_id)
    if row is None:
        raise NotFoundError(f"inspection round {round_id} not found")
    try:
        get_place(session, PlaceRow, row.place_id, "place")
    except NotFoundError:
        raise NotFoundError(f"inspection round {round_id} not found") from None
    return row


def _repeated(session: Session, key: str | None, stop_id: int | None) -> InspectionVisitRow | None:
    """Return the visit a client key already recorded at this stop, refusing a key used elsewhere."""
    if key is None:
        return None
    visit = session.scalar(select(InspectionVisitRow).where(InspectionVisitRow.client_key == key))
    if visit is not None and visit.stop_id != stop_id:
        raise ValidationError("key", f"key {key} already recorded another visit ({visit.id}); generate one per result")
    return visit


def record_stop(session: Session, round_id: int, stop_id: int, body: VisitCreate) -> tuple[InspectionVisitRow, bool]:
    """Record what the inspector found at a stop of a round; the round starts, and ends with its last stop.

    Say whether the visit is new: a result sent again with its key (a tablet back online that never
    heard the first answer) answers the visit already recorded, and opens no second ticket.
    """
    rnd = get_round(session, round_id)
    # Locked, so two copies of one result arriving together are told apart in turn, not both inserted.
    stop = session.get(InspectionStopRow, stop_id, with_for_update=True)
    if stop is None or stop.round_id != rnd.id:
        raise NotFoundError(f"stop {stop_id} of round {round_id} not found")
    repeated = _repeated(session, body.key, stop.id)
    if repeated is not None:
        return repeated, False
    if rnd.status == "done":
        raise ValidationError("round", f"round {rnd.id} is done; record a visit on its own instead")
    if session.scalar(select(InspectionVisitRow.id).where(InspectionVisitRow.stop_id == stop.id)) is not None:
        raise ValidationError("stop", f"stop {stop.id} of round {rnd.id} is already recorded")
    plan = session.get(InspectionPlanRow, stop.plan_id)
    if plan is None:
        raise NotFoundError(f"inspection plan {stop.plan_id} not found")
    visit = _visit(session, plan, stop.device_id, stop.space_id, body, stop)
    before = snapshot(rnd)
    if rnd.started_at is None:
        rnd.status, rnd.started_at = "in_progress", visit.at
    stops = session.scalar(select(func.count()).where(InspectionStopRow.round_id == rnd.id))
    done = session.scalar(select(func.count()).where(InspectionVisitRow.round_id == rnd.id))
    if stops == done:
        rnd.status, rnd.finished_at = "done", max(visit.at, rnd.started_at)
    session.flush()
    _announce_round(session, rnd, before)
    return visit, True


def list_rounds(session: Session, inspector_id: int | None, since: datetime | None) -> list[InspectionRoundRow]:
    """List the rounds in the caller's scope, newest first: one inspector's, and those open or ended since a time."""
    query = select(InspectionRoundRow).join(PlaceRow, PlaceRow.id == InspectionRoundRow.place_id)
    query = query.where(subtree_condition(session, PlaceRow.path))
    if inspector_id is not None:
        query = query.where(InspectionRoundRow.inspector_id == inspector_id)
    if since is not None:
        if since.tzinfo is None:
            raise ValidationError("since", "give the time with its offset (2024-05-03T00:00:00+08:00)")
        query = query.where(
            (InspectionRoundRow.status != "done")
            | (InspectionRoundRow.created_at >= since)
            | (InspectionRoundRow.finished_at >= since)
        )
    return list(session.scalars(query.order_by(InspectionRoundRow.created_at.desc(), InspectionRoundRow.id.desc())))


def finish_round(session: Session, round_id: int) -> InspectionRoundRow:
    """End a round by hand; the stops not recorded stay due for the next one."""
    rnd = get_round(session, round_id)
    path = str(session.scalar(select(PlaceRow.path).where(PlaceRow.id == rnd.place_id)))
    check_allowed(session, Permission.INSPECTION_WRITE, path, f"inspection round {rnd.id}")
    if rnd.status == "done":
        return rnd
    before = snapshot(rnd)
    rnd.status, rnd.finished_at = "done", utcnow()
    session.flush()
    _announce_round(session, rnd, before)
    return rnd


def _announce_round(session: Session, rnd: InspectionRoundRow, before: dict[str, Any]) -> None:
    path = str(session.scalar(select(PlaceRow.path).where(PlaceRow.id == rnd.place_id)))
    record(session, RegistryEvent("update", "inspection_round", rnd.id, scopes(path), {"status": rnd.status}))
    audit(
        session,
        action="inspection_round.update",
        kind="inspection_round",
        object_id=rnd.id,
        before=before,
        after=snapshot(rnd),
    )
