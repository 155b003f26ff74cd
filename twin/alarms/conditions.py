"""What the rule engine asks of the store: raise an alarm, clear it, escalate the unanswered.

``raise_alarm`` is one ``INSERT … ON CONFLICT`` on the one-open-alarm index: whichever instance
gets there first creates the alarm, every later raise of the same (rule, subject) — a second
ingest instance, a restarted one, a redelivered message — lands on that row, and a condition that
comes back after clearing re-opens it with its occurrence count raised, so flapping never mints a
second alarm. Severity only rises while an alarm is open. A raise carries ``data.flapping``: the
engine marks an alarm it holds open because it raised and cleared too often, and unmarks it when
the hold ends; each change is told (cause ``flapping``, ``steady``). These run as the system (no
principal): the engine sees the whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Table, case, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.alarms.events import announce
from twin.alarms.severity import AlarmSeverity, AlarmState
from twin.store.alarms import OPEN, AlarmRow
from twin.store.ltree import ids_of


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A condition the engine found true: which rule, on what, where, how bad, since when."""

    rule: str
    condition: str
    subject: str
    """``device:<id>`` or ``place:<id>``."""
    path: str
    """The device's location path (its place's), or the place's own."""
    severity: AlarmSeverity
    at: datetime
    device_id: int | None = None
    value: float | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    parent: tuple[str, str] | None = None
    """(rule, subject) of the root alarm to group this one under, if it is open."""


FLAPPING = "flapping"
"""The cause of the event telling that an alarm is now held open as flapping."""
STEADY = "steady"
"""The cause of the event telling that a flapping hold ended with the condition still true."""


@dataclass(frozen=True, slots=True)
class OpenCondition:
    """A raised or acknowledged alarm, as the engine resumes it."""

    rule: str
    subject: str
    severity: AlarmSeverity
    message: str
    flapping: bool


@dataclass(frozen=True, slots=True)
class Raised:
    """What a raise did: the alarm, and whether it is new, re-opened or worse than before."""

    alarm: AlarmRow
    created: bool
    reopened: bool
    worsened: bool


def households_of(session: Session, device_id: int | None, path: str) -> list[int]:
    """Return the household units an alarm affects: those its device feeds, and the unit it sits in."""
    fed = text(
        "WITH RECURSIVE fed(device_id) AS (SELECT CAST(:device AS bigint) UNION "
        "SELECT r.target_device_id FROM relations r JOIN fed ON r.source_device_id = fed.device_id "
        "WHERE r.kind = 'feeds' AND r.target_device_id IS NOT NULL), "
        "roots(path) AS (SELECT p.path FROM relations r JOIN fed ON r.source_device_id = fed.device_id "
        "JOIN places p ON p.id = r.target_place_id WHERE r.kind = 'feeds' "
        "UNION SELECT d.path FROM devices d JOIN fed ON d.id = fed.device_id WHERE fed.device_id <> :device "
        "UNION SELECT CAST(:path AS ltree)) "
        "SELECT DISTINCT s.id FROM spaces s JOIN places p ON p.id = s.id JOIN roots ON p.path <@ roots.path "
        "WHERE s.space_kind = 'unit' AND p.retired_at IS NULL ORDER BY s.id"
    )
    return [int(r[0]) for r in session.execute(fed, {"device": device_id or 0, "path": path})]


def raise_alarm(session: Session, occurrence: Occurrence) -> Raised:
    """Raise (or re-raise) the one open alarm of a rule on a subject; announce it after commit."""
    o = occurrence
    ids = ids_of(o.path)
    parent_id = _open_id(session, *o.parent) if o.parent is not None else None
    table = AlarmRow.__table__
    assert isinstance(table, Table)
    values = {
        "rule": o.rule,
        "subject": o.subject,
        "condition": o.condition,
        "site_id": ids[0],
        "place_id": ids[-1],
        "device_id": o.device_id,
        "path": o.path,
        "households": households_of(session, o.device_id, o.path),
        "severity": o.severity.value,
        "state": AlarmState.RAISED.value,
        "message": o.message,
        "value": o.value,
        "data": o.data,
        "parent_id": parent_id,
        "occurrences": 1,
        "first_at": o.at,
        "last_at": o.at,
        "escalations": 0,
    }
    base = insert(table).values(values)
    new = base.excluded
    was_cleared = table.c.state == AlarmState.CLEARED.value
    stmt = base.on_conflict_do_update(
        index_elements=["rule", "subject"],
        index_where=text(OPEN),
        set_={
            "state": case((was_cleared, AlarmState.RAISED.value), else_=table.c.state),
            "occurrences": table.c.occurrences + case((was_cleared, 1), else_=0),
            "cleared_at": case((was_cleared, None), else_=table.c.cleared_at),
            "cleared_by": case((was_cleared, None), else_=table.c.cleared_by),
            "last_at": func.greatest(table.c.last_at, new.last_at),
            "value": new.value,
            "message": new.message,
            "data": func.coalesce(table.c.data, text("'{}'::jsonb")).op("||")(new.data),
            "severity": case((_rank(new.severity) > _rank(table.c.severity), new.severity), else_=table.c.severity),
            "parent_id": func.coalesce(table.c.parent_id, new.parent_id),
        },
    ).returning(
        table.c.id,
        literal_column("xmax = 0").label("created"),
        literal_column("(SELECT state FROM alarms a WHERE a.id = alarms.id)").label("before_state"),
        literal_column("(SELECT severity FROM alarms a WHERE a.id = alarms.id)").label("before_severity"),
        literal_column("(SELECT (a.data->>'flapping') = 'true' FROM alarms a WHERE a.id = alarms.id)").label(
            "was_flapping"
        ),
    )
    row = session.execute(stmt).one()
    alarm = session.get(AlarmRow, row.id, populate_existing=True)
    assert alarm is not None
    created = bool(row.created)
    reopened = not created and row.before_state == AlarmState.CLEARED.value
    # A row another transaction committed after this one began is invisible to the RETURNING
    # subquery (None): that raise was just announced by its own writer, so this one tells nothing.
    before = row.before_severity
    worsened = before is not None and AlarmSeverity(alarm.severity).rank > AlarmSeverity(before).rank
    flapping, was_flapping = bool(o.data.get("flapping")), bool(row.was_flapping)
    cause = (
        "raised" if created
        else FLAPPING if flapping and not was_flapping
        else "reopened" if reopened
        else STEADY if was_flapping and not flapping
        else "worsened" if worsened
        else None
    )  # fmt: skip
    if cause is not None:
        announce(session, "create" if created else "update", alarm, cause=cause)
    return Raised(alarm, created, reopened, worsened)


def _rank(column: Any) -> Any:
    return case({"critical": 4, "major": 3, "minor": 2, "warning": 1}, value=column, else_=0)


def _open_id(session: Session, rule: str, subject: str) -> int | None:
    return session.scalar(select(AlarmRow.id).where(AlarmRow.rule == rule, AlarmRow.subject == subject, text(OPEN)))


def clear_condition(session: Session, rule: str, subject: str, at: datetime) -> AlarmRow | None:
    """Clear the open alarm of a rule on a subject because its condition is gone (not by a person)."""
    alarm_id = session.scalar(
        update(AlarmRow)
        .where(
            AlarmRow.rule == rule,
            AlarmRow.subject == subject,
            AlarmRow.state.in_([AlarmState.RAISED.value, AlarmState.ACKNOWLEDGED.value]),
        )
        .values(state=AlarmState.CLEARED.value, cleared_at=at, cleared_by=None)
        .returning(AlarmRow.id)
    )
    if alarm_id is None:
        return None
    alarm = session.get(AlarmRow, alarm_id, populate_existing=True)
    assert alarm is not None
    announce(session, "update", alarm, cause="cleared")
    return alarm


def open_conditions(session: Session) -> list[OpenCondition]:
    """Return every raised or acknowledged alarm: what the engine resumes from, flapping holds too."""
    stmt = select(AlarmRow.rule, AlarmRow.subject, AlarmRow.severity, AlarmRow.message, AlarmRow.data).where(
        AlarmRow.state.in_([AlarmState.RAISED.value, AlarmState.ACKNOWLEDGED.value])
    )
    return [
        OpenCondition(r.rule, r.subject, AlarmSeverity(r.severity), r.message or "", _flapping(r.data))
        for r in session.execute(stmt)
    ]


def _flapping(data: dict[str, Any] | None) -> bool:
    return bool(data and data.get("flapping"))


def escalate_due(session: Session, now: datetime) -> list[AlarmRow]:
    """Escalate every CRITICAL root alarm left unacknowledged past its rule's delay (again each delay)."""
    delay = func.coalesce(AlarmRow.data["escalate_after_min"].astext.cast(Float()), 5.0) * text("interval '1 minute'")
    stmt = (
        update(AlarmRow)
        .where(
            AlarmRow.severity == AlarmSeverity.CRITICAL.value,
            AlarmRow.state == AlarmState.RAISED.value,
            AlarmRow.parent_id.is_(None),
            func.coalesce(AlarmRow.escalated_at, AlarmRow.first_at) + delay <= now,
        )
        .values(escalated_at=now, escalations=AlarmRow.escalations + 1)
        .returning(AlarmRow.id)
    )
    ids = list(session.scalars(stmt))
    rows = [session.get(AlarmRow, i, populate_existing=True) for i in ids]
    out = [r for r in rows if r is not None]
    for row in out:
        announce(session, "update", row, cause="escalated")
    return out
