"""A round as the API shows it: its stops in order with their legs and visits, and planned against walked.

"Walked" follows the visits in the order they were recorded: the walking distance between the
places recorded one after the other (from the round's start, when it has one), stops skipped,
stops taken out of order, and the time between the first and the last record.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.auth.scope import device_condition
from twin.graph.walking import load_graph
from twin.operations.catalogue import Outcome
from twin.operations.inspection_schemas import RoundPublic, StopPublic, VisitPublic, WalkedReport
from twin.operations.rounds import WALK_M_PER_MIN, Distances, Plan
from twin.store.models import DeviceRow, SpaceRow
from twin.store.operations import InspectionRoundRow, InspectionStopRow, InspectionVisitRow
from twin.store.security import UserRow


def visit_public(visit: InspectionVisitRow) -> VisitPublic:
    """Render a visit."""
    return VisitPublic.model_validate(visit, from_attributes=True)


def _names(session: Session, stops: Sequence[InspectionStopRow]) -> tuple[dict[int, str], dict[int, tuple[str, int]]]:
    device_ids = [s.device_id for s in stops if s.device_id is not None]
    # Only the devices the caller sees are named: a vendor's view of a round leaves the other kinds' stops unnamed.
    seen = device_condition(session, DeviceRow.path, DeviceRow.kind)
    devices = (
        dict(session.execute(select(DeviceRow.id, DeviceRow.name).where(DeviceRow.id.in_(device_ids), seen)).all())
        if device_ids
        else {}
    )
    space_ids = [s.space_id for s in stops]
    spaces = {
        sid: (name, floor)
        for sid, name, floor in session.execute(
            select(SpaceRow.id, SpaceRow.name, SpaceRow.floor_id).where(SpaceRow.id.in_(space_ids))
        )
    }
    return devices, spaces


def walked(
    session: Session, rnd: InspectionRoundRow, stops: Sequence[InspectionStopRow], visits: Sequence[InspectionVisitRow]
) -> WalkedReport:
    """Compare the planned round with the visits recorded on it."""
    by_stop = {s.id: s for s in stops}
    done = sorted((v for v in visits if v.stop_id in by_stop), key=lambda v: (v.at, v.id))
    out_of_order = 0
    highest = 0
    for visit in done:
        seq = by_stop[visit.stop_id or 0].seq
        if seq < highest:
            out_of_order += 1
        highest = max(highest, seq)
    walked_length: float | None = None
    walked_minutes: float | None = None
    if len(done) >= 2 or (done and rnd.start_space_id is not None):
        distances = Distances(load_graph(session, rnd.site_id))
        places = ([rnd.start_space_id] if rnd.start_space_id is not None else []) + [v.space_id for v in done]
        walked_length = round(sum(distances.between(a, b) for a, b in zip(places, places[1:], strict=False)), 2)
    if len(done) >= 2:
        walked_minutes = round((done[-1].at - done[0].at).total_seconds() / 60, 1)
    visited = {v.stop_id for v in done}
    return WalkedReport(
        planned_stops=len(stops),
        visited_stops=len(done),
        missed_stop_ids=[s.id for s in stops if s.id not in visited] if rnd.status == "done" else [],
        out_of_order=out_of_order,
        planned_length=rnd.planned_length,
        walked_length=walked_length,
        planned_minutes=rnd.planned_minutes,
        walked_minutes=walked_minutes,
        defects=sum(1 for v in done if v.outcome == Outcome.DEFECT),
    )


def round_public(session: Session, rnd: InspectionRoundRow, plan: Plan | None = None) -> RoundPublic:
    """Render a round with its stops, their visits, what was left out (when just planned) and how it went."""
    stops = list(
        session.scalars(
            select(InspectionStopRow).where(InspectionStopRow.round_id == rnd.id).order_by(InspectionStopRow.seq)
        )
    )
    visits = list(session.scalars(select(InspectionVisitRow).where(InspectionVisitRow.round_id == rnd.id)))
    by_stop = {v.stop_id: v for v in visits}
    devices, spaces = _names(session, stops)
    inspector = session.scalar(select(UserRow.username).where(UserRow.id == rnd.inspector_id)) or "?"
    stop_minutes = sum(t.plan.minutes_per_stop for t in plan.stops) if plan else None
    walk_minutes = rnd.planned_length / WALK_M_PER_MIN
    return RoundPublic(
        id=rnd.id,
        site_id=rnd.site_id,
        place_id=rnd.place_id,
        inspector=inspector,
        planned_by=rnd.planned_by,
        budget_minutes=rnd.budget_minutes,
        start_space_id=rnd.start_space_id,
        status=rnd.status,
        length=rnd.planned_length,
        walk_minutes=round(walk_minutes, 1),
        stop_minutes=round(stop_minutes if stop_minutes is not None else rnd.planned_minutes - walk_minutes, 1),
        estimated_minutes=rnd.planned_minutes,
        created_at=rnd.created_at,
        started_at=rnd.started_at,
        finished_at=rnd.finished_at,
        stops=[
            StopPublic(
                id=s.id,
                seq=s.seq,
                plan_id=s.plan_id,
                device_id=s.device_id,
                space_id=s.space_id,
                floor_id=spaces.get(s.space_id, ("", None))[1],
                name=devices.get(s.device_id, "") if s.device_id is not None else spaces.get(s.space_id, ("?", 0))[0],
                reason=s.reason,
                due_at=s.due_at,
                leg_length=s.leg_length,
                leg=list(s.leg),
                visit=visit_public(by_stop[s.id]) if s.id in by_stop else None,
            )
            for s in stops
        ],
        skipped=plan.skipped if plan else [],
        walked=walked(session, rnd, stops, visits),
    )
