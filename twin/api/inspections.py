"""Inspections: plans, what is due, rounds planned as walking routes, and the visits recorded on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from twin.api.deps import PrincipalDep, SessionDep
from twin.auth.deps import require
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.graph.places import get_place
from twin.operations import inspections as uc
from twin.operations.catalogue import DueState
from twin.operations.inspection_due import Target, due_targets
from twin.operations.inspection_schemas import (
    AdHocVisitCreate,
    DueTarget,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    RoundCreate,
    RoundList,
    RoundPublic,
    VisitCreate,
    VisitPublic,
)
from twin.operations.round_report import round_public, visit_public
from twin.operations.rounds import plan_round
from twin.schemas import Id
from twin.store.base import utcnow
from twin.store.models import PlaceRow

router = APIRouter(prefix="/api/inspections", tags=["inspections"])
Writer = Annotated[Principal, Depends(require(Permission.INSPECTION_WRITE))]


def _due_public(t: Target) -> DueTarget:
    return DueTarget(
        plan_id=t.plan.id,
        plan=t.plan.name,
        device_id=t.device_id,
        space_id=t.space_id,
        floor_id=t.floor_id,
        name=t.name,
        last_visit=t.last_visit,
        due_at=t.due_at,
        state=t.state,
        overdue_days=t.overdue_days,
        attention=t.attention,
    )


@router.post("/plans", status_code=status.HTTP_201_CREATED)
def create_plan(session: SessionDep, body: PlanCreate, principal: Writer) -> PlanPublic:
    """Declare what to inspect under a place (device kinds or spaces) and how often."""
    return PlanPublic.model_validate(uc.create_plan(session, body), from_attributes=True)


@router.get("/plans")
def list_plans(session: SessionDep, under: Id | None = None) -> dict[str, list[PlanPublic]]:
    """List the inspection plans in the caller's scope."""
    return {"items": [PlanPublic.model_validate(p, from_attributes=True) for p in uc.list_plans(session, under)]}


@router.patch("/plans/{plan_id}")
def update_plan(session: SessionDep, plan_id: Id, body: PlanUpdate, principal: Writer) -> PlanPublic:
    """Pause, resume or re-time a plan."""
    return PlanPublic.model_validate(uc.update_plan(session, plan_id, body), from_attributes=True)


@router.get("/due")
def list_due(
    session: SessionDep,
    under: Id,
    state: Annotated[list[DueState] | None, Query()] = None,
) -> dict[str, list[DueTarget]]:
    """List the targets of the active plans under a place with their due state (default: due and overdue)."""
    place = get_place(session, PlaceRow, under, "place")
    wanted = set(state or [DueState.DUE, DueState.OVERDUE])
    targets = [t for t in due_targets(session, place.path, utcnow()) if t.state in wanted]
    targets.sort(key=lambda t: (t.state is not DueState.OVERDUE, t.due_at))
    return {"items": [_due_public(t) for t in targets]}


@router.post("/rounds", status_code=status.HTTP_201_CREATED)
def create_round(session: SessionDep, body: RoundCreate, principal: Writer) -> RoundPublic:
    """Plan a round for an inspector within a time budget: what is due, in walking order."""
    row, plan = plan_round(session, body)
    return round_public(session, row, plan)


@router.get("/rounds")
def list_rounds(
    session: SessionDep,
    principal: PrincipalDep,
    mine: Annotated[bool, Query(description="Only the rounds planned for the signed-in user.")] = False,
    since: Annotated[
        datetime | None, Query(description="Only rounds still open, or created or ended since then (with offset).")
    ] = None,
) -> RoundList:
    """List rounds in the caller's scope, newest first; the tablet asks for its user's open and today's rounds."""
    if mine and principal.user_id is None:
        return RoundList(items=[])
    rows = uc.list_rounds(session, principal.user_id if mine else None, since)
    return RoundList(items=[round_public(session, row) for row in rows])


@router.get("/rounds/{round_id}")
def get_round(session: SessionDep, round_id: Id) -> RoundPublic:
    """Read a round: its stops, their visits, and planned against walked."""
    return round_public(session, uc.get_round(session, round_id))


@router.post("/rounds/{round_id}/stops/{stop_id}", status_code=status.HTTP_201_CREATED)
def record_stop(
    session: SessionDep, response: Response, round_id: Id, stop_id: Id, body: VisitCreate, principal: Writer
) -> VisitPublic:
    """Record what was found at a stop: ok, or a defect (which opens a ticket).

    The same result sent again with its key answers 200 with the visit already recorded.
    """
    visit, created = uc.record_stop(session, round_id, stop_id, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return visit_public(visit)


@router.post("/rounds/{round_id}/finish")
def finish_round(session: SessionDep, round_id: Id, principal: Writer) -> RoundPublic:
    """End a round; the stops not recorded stay due."""
    return round_public(session, uc.finish_round(session, round_id))


@router.post("/visits", status_code=status.HTTP_201_CREATED)
def record_visit(session: SessionDep, body: AdHocVisitCreate, principal: Writer) -> VisitPublic:
    """Record a visit outside any round."""
    outcome = VisitCreate(
        outcome=body.outcome,
        note=body.note,
        at=body.at,
        category=body.category,
        priority=body.priority,
        key=body.key,
    )
    return visit_public(uc.record_adhoc_visit(session, body.plan_id, body.device_id, body.space_id, outcome))
