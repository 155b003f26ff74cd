"""Alarms: list and count in the caller's scope, read one with its children, act on it, declare rules.

Reading needs only a login (scoped as every list is); acting needs ``alarm.ack`` at the alarm's
place, a ticket also ``ticket.write``; rules are declared by those who may change the graph, and
are checked against the live path's vocabulary before they are stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from twin.alarms import lifecycle as uc
from twin.alarms.queries import AlarmFilter, alarm_counts, get_alarm, list_alarms
from twin.alarms.rules import DeviceRule, PlaceRule, RuleError, Vocabulary, device_rule, place_rule
from twin.alarms.schemas import AlarmAssign, AlarmNote, AlarmPublic, AlarmTicket, RuleCreate
from twin.alarms.severity import ACTIVE_STATES, OPEN_STATES, SEVERITIES, STATES, AlarmSeverity, AlarmState
from twin.api.catalogue import LabelPublic
from twin.api.deps import SessionDep
from twin.audit import audit
from twin.auth.delegation import check_rule, shows_rule
from twin.auth.deps import require
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.errors import NotFoundError, ValidationError
from twin.events import RegistryEvent, record
from twin.schemas import Flag, Id, Moment
from twin.store.alarms import AlarmRuleRow
from twin.store.models import DeviceRow

router = APIRouter(prefix="/api/alarms", tags=["alarms"])
Handler = Annotated[Principal, Depends(require(Permission.ALARM_ACK))]
RuleWriter = Annotated[Principal, Depends(require(Permission.GRAPH_WRITE))]
RULES_EVENT = "alarm_rule"


class Legend(BaseModel):
    """The alarm vocabularies (most urgent severity first); the view reads them from the catalogue."""

    severities: dict[str, LabelPublic]
    states: dict[str, LabelPublic]


class AlarmCount(BaseModel):
    """Active root alarms in one building or floor, by severity; a storm counts once."""

    place_id: int
    level: str
    counts: dict[str, int]
    grouped: int = Field(description="Active alarms grouped under these roots: the devices their storms cut off.")


class RulePublic(BaseModel):
    """A rule declared through the API, as stored."""

    id: int
    name: str
    spec: dict[str, Any]
    created_by: str | None


class AlarmDetail(AlarmPublic):
    """An alarm with the alarms a storm grouped under it."""

    grouped: list[AlarmPublic]


class TicketOpened(BaseModel):
    """The ticket an alarm opened, and its SLA due time."""

    ticket_id: int
    alarm_id: int
    status: str
    due_at: datetime


@router.get("/legend")
def legend() -> Legend:
    """Return the severities and states with their labels and colours."""
    return Legend(
        severities={s.value: LabelPublic(zh=lb.zh, en=lb.en, colour=lb.colour) for s, lb in SEVERITIES.items()},
        states={s.value: LabelPublic(zh=lb.zh, en=lb.en, colour=lb.colour) for s, lb in STATES.items()},
    )


@router.get("")
def list_alarms_route(
    session: SessionDep,
    under: Id | None = None,
    device_id: Id | None = None,
    severity: Annotated[list[AlarmSeverity] | None, Query()] = None,
    state: Annotated[list[str] | None, Query(description="raised, acknowledged, cleared, closed, open or all")] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    grouped: Flag = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlarmPublic]:
    """List alarms (open ones by default), the most urgent first; storm children folded under roots."""
    f = AlarmFilter(
        under=under,
        device_id=device_id,
        severities=tuple(severity or ()),
        states=_states(state),
        since=since,
        until=until,
        roots_only=grouped and device_id is None,
    )
    return [AlarmPublic.of(row, n) for row, n in list_alarms(session, f, limit, offset)]


def _states(words: list[str] | None) -> tuple[AlarmState, ...]:
    if not words or words == ["open"]:
        return OPEN_STATES
    if words == ["all"]:
        return ()
    try:
        return tuple(AlarmState(w) for w in words)
    except ValueError:
        raise ValidationError("state", f"{words} are not among open, all, {', '.join(AlarmState)}") from None


@router.get("/counts")
def count_alarms(session: SessionDep, under: Id | None = None) -> list[AlarmCount]:
    """Count active root alarms per building and floor, by severity (the overview's and the wall's): a storm once."""
    counted = alarm_counts(session, under)
    return [AlarmCount(place_id=c.place_id, level=c.level, counts=c.counts, grouped=c.grouped) for c in counted]


@router.get("/rules")
def list_rules(session: SessionDep) -> list[RulePublic]:
    """List the rules declared through the API, but those naming a device or a device kind one does not see."""
    rows = session.scalars(select(AlarmRuleRow).order_by(AlarmRuleRow.id))
    return [
        RulePublic(id=r.id, name=r.name, spec=r.spec, created_by=r.created_by)
        for r in rows
        if shows_rule(session, r.spec)
    ]


@router.post("/rules", status_code=status.HTTP_201_CREATED)
def create_rule(session: SessionDep, body: RuleCreate, request: Request, principal: RuleWriter) -> RulePublic:
    """Declare a rule; refused with the reason when it names what does not exist or is in a wrong unit."""
    check_rule(session, {**body.spec, "type": body.type}, "declare")
    vocab: Vocabulary = getattr(request.app.state, "alarm_vocabulary", None) or Vocabulary({})
    tags = {t for t in session.scalars(select(DeviceRow.tag)) if t}
    rule: DeviceRule | PlaceRule
    try:
        if body.type == "place":
            rule = place_rule(body.spec)
            known = set(session.scalars(select(AlarmRuleRow.name)))
            missing = [m for m in rule.members if m not in known]
            if rule.name in rule.members:
                raise RuleError(f"rule {rule.name!r}: members: refers to itself")
            if missing:
                raise RuleError(f"rule {rule.name!r}: members: no declared rule is named {missing[0]!r}")
        else:
            rule = device_rule(body.spec, Vocabulary(vocab.quantities, tags))
    except RuleError as exc:
        raise ValidationError("spec", str(exc)) from None
    if session.scalar(select(AlarmRuleRow.id).where(AlarmRuleRow.name == rule.name)) is not None:
        raise ValidationError("spec.name", f"a rule named {rule.name!r} exists")
    row = AlarmRuleRow(name=rule.name, spec={**body.spec, "type": body.type}, created_by=principal.username)
    session.add(row)
    session.flush()
    audit(session, action="alarm_rule.create", kind="alarm_rule", object_id=row.id, after=row.spec)
    record(session, RegistryEvent("create", RULES_EVENT, row.id, (), {"name": row.name}))
    return RulePublic(id=row.id, name=row.name, spec=row.spec, created_by=row.created_by)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(session: SessionDep, rule_id: Id, principal: RuleWriter) -> None:
    """Withdraw a rule declared through the API (its open alarms stay until handled)."""
    row = session.get(AlarmRuleRow, rule_id)
    if row is None:
        raise NotFoundError(f"alarm rule {rule_id} not found")
    check_rule(session, row.spec, "withdraw")
    audit(session, action="alarm_rule.delete", kind="alarm_rule", object_id=row.id, before=row.spec)
    session.delete(row)
    record(session, RegistryEvent("delete", RULES_EVENT, rule_id, (), {"name": row.name}))


@router.get("/{alarm_id}")
def get_alarm_route(session: SessionDep, alarm_id: Id) -> AlarmDetail:
    """Return an alarm with the children grouped under it, in any state; ``children`` counts the active ones."""
    row = get_alarm(session, alarm_id)
    children = list_alarms(session, AlarmFilter(parent_id=row.id, states=()), limit=1000)
    grouped = [AlarmPublic.of(c) for c, _ in children]
    active = sum(1 for c, _ in children if AlarmState(c.state) in ACTIVE_STATES)
    return AlarmDetail(**AlarmPublic.of(row, active).model_dump(), grouped=grouped)


@router.post("/{alarm_id}/ack")
def acknowledge(session: SessionDep, alarm_id: Id, body: AlarmNote, principal: Handler) -> AlarmPublic:
    """Acknowledge a raised alarm (who and when are recorded; escalation stops)."""
    return AlarmPublic.of(uc.acknowledge_alarm(session, alarm_id, body.note))


@router.post("/{alarm_id}/clear")
def clear(session: SessionDep, alarm_id: Id, body: AlarmNote, principal: Handler) -> AlarmPublic:
    """Clear an alarm by hand."""
    return AlarmPublic.of(uc.clear_alarm(session, alarm_id, body.note))


@router.post("/{alarm_id}/close")
def close(session: SessionDep, alarm_id: Id, body: AlarmNote, principal: Handler) -> AlarmPublic:
    """Close a cleared alarm."""
    return AlarmPublic.of(uc.close_alarm(session, alarm_id, body.note))


@router.post("/{alarm_id}/assign")
def assign(session: SessionDep, alarm_id: Id, body: AlarmAssign, principal: Handler) -> AlarmPublic:
    """Give an alarm to someone."""
    return AlarmPublic.of(uc.assign_alarm(session, alarm_id, body.assignee))


@router.post("/{alarm_id}/ticket", status_code=status.HTTP_201_CREATED)
def open_ticket(session: SessionDep, alarm_id: Id, body: AlarmTicket, principal: Handler) -> TicketOpened:
    """Open a repair ticket from an alarm; the alarm and the ticket name each other."""
    ticket = uc.open_ticket_for_alarm(session, alarm_id, body.category, body.priority, body.description)
    return TicketOpened(ticket_id=ticket.id, alarm_id=alarm_id, status=ticket.status, due_at=ticket.due_at)
