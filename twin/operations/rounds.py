"""Planning an inspection round: what to visit within a time budget, and in which walking order.

Candidates are the due and overdue targets under a place that the inspector may see, plus those
with something open on them. They are taken in order of need — overdue first (the longest
overdue first), then those with open tickets (or alarms), then the merely due — each inserted
where it lengthens the walk least, as long as walking plus time at the stops fits the budget; one
that does not fit is left for the next round, and one with no walking route is reported. The
chosen stops are then re-ordered (``routing.best_order``) over shortest walking distances on the
site's walking graph, across floors by its stairs and elevators; the re-ordering never makes the
walk longer, so the budget still holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.authenticate import load_principal
from twin.auth.roles import Permission
from twin.auth.scope import Principal, check_allowed
from twin.errors import ValidationError
from twin.events import RegistryEvent, record
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.graph.walking import Graph, load_graph, shortest_paths
from twin.operations.catalogue import DueState
from twin.operations.inspection_due import ATTENTION, AttentionSource, Target, due_targets
from twin.operations.inspection_schemas import RoundCreate, SkippedTarget
from twin.operations.routing import best_order, cheapest_insertion, walk_length
from twin.store.base import utcnow
from twin.store.models import PlaceRow, SpaceRow, WalkEdgeRow
from twin.store.operations import InspectionRoundRow, InspectionStopRow
from twin.store.security import UserRow

Previous = dict[int, tuple[int, WalkEdgeRow] | None]
"""Dijkstra's predecessors: each space reached, the space it was reached from and the edge taken."""

WALK_M_PER_MIN = 60.0
"""Indoor walking pace, doors and stairs included (1 m/s); elevator waits are in the graph's costs."""


def reason_of(target: Target) -> str:
    """Return why a target is visited: overdue, something open on it, or due."""
    if target.state is DueState.OVERDUE:
        return "overdue"
    return "attention" if target.attention else "due"


def need(target: Target) -> tuple[int, float]:
    """Rank a target: overdue first (longest overdue first), then attention, then due (earliest first)."""
    rank = {"overdue": 0, "attention": 1, "due": 2}[reason_of(target)]
    return rank, target.due_at.timestamp()


class Distances:
    """Shortest walking distances from the spaces asked about, one Dijkstra each, kept."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.runs: dict[int, tuple[dict[int, float], Previous]] = {}

    def from_space(self, space_id: int) -> dict[int, float]:
        """Return the distance from a space to every space it reaches."""
        if space_id not in self.runs:
            self.runs[space_id] = shortest_paths(self.graph, space_id)
        return self.runs[space_id][0]

    def between(self, a: int, b: int) -> float:
        """Return the walking distance between two spaces (inf when no route joins them).

        The graph is undirected, so a run from either end answers: a candidate is measured from
        the stops already chosen, and only a chosen stop costs a Dijkstra of its own.
        """
        if a == b:
            return 0.0
        if a not in self.runs and b in self.runs:
            a, b = b, a
        return self.from_space(a).get(b, math.inf)

    def leg(self, a: int, b: int) -> list[int]:
        """Return the spaces walked through from a to b, both included."""
        self.from_space(a)
        previous = self.runs[a][1]
        chain = [b]
        while chain[-1] != a:
            step = previous.get(chain[-1])
            if step is None:
                return [a, b]
            chain.append(step[0])
        return chain[::-1]


@dataclass
class Plan:
    """A chosen set of stops in walking order, and what was left out."""

    stops: list[Target]
    length: float
    stop_minutes: float
    skipped: list[SkippedTarget]

    @property
    def walk_minutes(self) -> float:
        """Return the estimated walking time."""
        return self.length / WALK_M_PER_MIN


def choose(candidates: Sequence[Target], budget_minutes: float, distances: Distances, start: int | None) -> Plan:
    """Choose stops by need within the budget, then order them as a short walk."""
    chosen: list[Target] = []
    order: list[int] = []
    skipped: list[SkippedTarget] = []
    minutes = 0.0

    def matrix() -> tuple[list[list[float]], list[float] | None]:
        spaces = [t.space_id or 0 for t in chosen]
        dist = [[distances.between(a, b) for b in spaces] for a in spaces]
        return dist, [distances.between(start, s) for s in spaces] if start is not None else None

    for target in sorted(candidates, key=need):
        space = target.space_id
        anchor = start if start is not None else (chosen[0].space_id if chosen else None)
        if space is None or (anchor is not None and math.isinf(distances.between(anchor, space))):
            skipped.append(_skip(target, "no walking route to it"))
            continue
        chosen.append(target)
        dist, from_start = matrix()
        position, extra = cheapest_insertion(order, len(chosen) - 1, dist, from_start)
        length = walk_length(order, dist, from_start) + extra
        if (length / WALK_M_PER_MIN) + minutes + target.plan.minutes_per_stop > budget_minutes:
            chosen.pop()
            skipped.append(_skip(target, "over the time budget"))
            continue
        order.insert(position, len(chosen) - 1)
        minutes += target.plan.minutes_per_stop
        distances.from_space(space)
    dist, from_start = matrix()
    final = best_order(len(chosen), dist, from_start, seeds=[order])
    return Plan([chosen[i] for i in final], walk_length(final, dist, from_start), minutes, skipped)


def _skip(target: Target, reason: str) -> SkippedTarget:
    return SkippedTarget(plan_id=target.plan.id, device_id=target.device_id, space_id=target.space_id, reason=reason)


def _inspector(session: Session, username: str, path: str) -> tuple[UserRow, Principal]:
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or user.disabled:
        raise ValidationError("inspector", f"no active user {username!r}")
    principal = load_principal(session, user, "password")
    if not principal.allows(Permission.INSPECTION_WRITE, path):
        raise ValidationError("inspector", f"{username} may not inspect at this place")
    return user, principal


def plan_round(
    session: Session, data: RoundCreate, attention: Sequence[AttentionSource] = ATTENTION
) -> tuple[InspectionRoundRow, Plan]:
    """Plan and store a round for an inspector under a place, within the time budget."""
    place = get_place(session, PlaceRow, data.place_id, "place")
    check_allowed(session, Permission.INSPECTION_WRITE, place.path, f"place {place.id}")
    user, principal = _inspector(session, data.inspector, place.path)
    start: SpaceRow | None = None
    if data.start_space_id is not None:
        start = get_place(session, SpaceRow, data.start_space_id, "space")
        if start.site_id != place.site_id:
            raise ValidationError("start_space_id", f"space {start.id} is in another site")
    now = utcnow()
    targets = due_targets(session, place.path, now, principal, attention)
    candidates = [t for t in targets if t.state is not DueState.OK or t.attention]
    distances = Distances(load_graph(session, place.site_id or place.id))
    plan = choose(candidates, data.budget_minutes, distances, start.id if start else None)
    row = InspectionRoundRow(
        site_id=place.site_id or place.id,
        place_id=place.id,
        inspector_id=user.id,
        planned_by=str(session.info.get("actor") or "system"),
        budget_minutes=data.budget_minutes,
        start_space_id=start.id if start else None,
        planned_length=round(plan.length, 2),
        planned_minutes=round(plan.walk_minutes + plan.stop_minutes, 1),
        status="planned",
    )
    session.add(row)
    session.flush()
    previous = start.id if start else None
    for seq, target in enumerate(plan.stops, start=1):
        here = target.space_id or 0
        leg = distances.between(previous, here) if previous is not None else 0.0
        session.add(
            InspectionStopRow(
                round_id=row.id,
                seq=seq,
                plan_id=target.plan.id,
                device_id=target.device_id,
                space_id=here,
                reason=reason_of(target),
                due_at=target.due_at,
                leg_length=round(leg, 2),
                leg=distances.leg(previous, here) if previous is not None else [here],
            )
        )
        previous = here
    session.flush()
    data_out = {"inspector": user.username, "stops": len(plan.stops), "length": row.planned_length}
    record(session, RegistryEvent("create", "inspection_round", row.id, scopes(place.path), data_out))
    audit(session, action="inspection_round.create", kind="inspection_round", object_id=row.id, after=snapshot(row))
    return row, plan
