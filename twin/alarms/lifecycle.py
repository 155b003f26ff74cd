"""What people do with an alarm: acknowledge, clear, close, assign, open a repair ticket.

Each is allowed only where the caller holds ``alarm.ack`` (a ticket also needs ``ticket.write``
there), is audited with the before and after, and is announced after commit. The lifecycle only
moves forward — raised → acknowledged → cleared → closed — except that a cleared alarm whose
condition returns is raised again by the engine (see ``conditions.raise_alarm``). An alarm is
closed only once cleared: closing a live condition would hide it until it flaps.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.alarms.events import announce
from twin.alarms.queries import get_alarm
from twin.alarms.severity import AlarmState
from twin.audit import audit, snapshot
from twin.auth.authenticate import load_principal
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed
from twin.errors import ValidationError
from twin.operations.catalogue import TicketCategory, TicketPriority
from twin.operations.schemas import TicketCreate
from twin.operations.tickets import open_ticket
from twin.store.alarms import AlarmRow
from twin.store.base import utcnow
from twin.store.operations import TicketRow
from twin.store.security import UserRow


def _actor(session: Session) -> str:
    return str(session.info.get("actor") or "system")


def _writable(session: Session, alarm_id: int) -> AlarmRow:
    row = get_alarm(session, alarm_id, lock=True)
    check_allowed(session, Permission.ALARM_ACK, row.path, f"alarm {alarm_id}")
    return row


def _done(session: Session, row: AlarmRow, verb: str, before: object) -> AlarmRow:
    session.flush()
    audit(session, action=f"alarm.{verb}", kind="alarm", object_id=row.id, before=before, after=snapshot(row))
    announce(session, "update", row, cause=verb)
    return row


def acknowledge_alarm(session: Session, alarm_id: int, note: str | None = None) -> AlarmRow:
    """Say someone has seen a raised alarm and is on it (who, when, with a note); stops escalation."""
    row = _writable(session, alarm_id)
    if row.state != AlarmState.RAISED:
        raise ValidationError("state", f"alarm {alarm_id} is {row.state}; only a raised alarm is acknowledged")
    before = snapshot(row)
    row.state, row.acknowledged_at, row.acknowledged_by, row.ack_note = (
        AlarmState.ACKNOWLEDGED.value,
        utcnow(),
        _actor(session),
        note,
    )
    return _done(session, row, "ack", before)


def clear_alarm(session: Session, alarm_id: int, note: str | None = None) -> AlarmRow:
    """Clear an alarm by hand (a false alarm, a condition the sensor cannot see end)."""
    row = _writable(session, alarm_id)
    if row.state not in (AlarmState.RAISED, AlarmState.ACKNOWLEDGED):
        raise ValidationError("state", f"alarm {alarm_id} is already {row.state}")
    before = snapshot(row)
    row.state, row.cleared_at, row.cleared_by = AlarmState.CLEARED.value, utcnow(), _actor(session)
    if note:
        row.data = {**row.data, "clear_note": note}
    return _done(session, row, "clear", before)


def close_alarm(session: Session, alarm_id: int, note: str | None = None) -> AlarmRow:
    """Close a cleared alarm: it leaves the board, and the next occurrence is a new alarm."""
    row = _writable(session, alarm_id)
    if row.state != AlarmState.CLEARED:
        raise ValidationError("state", f"alarm {alarm_id} is {row.state}; clear it before closing it")
    before = snapshot(row)
    row.state, row.closed_at, row.closed_by = AlarmState.CLOSED.value, utcnow(), _actor(session)
    if note:
        row.data = {**row.data, "close_note": note}
    return _done(session, row, "close", before)


def assign_alarm(session: Session, alarm_id: int, username: str) -> AlarmRow:
    """Give an open alarm to someone who may acknowledge alarms where it is."""
    row = _writable(session, alarm_id)
    if row.state == AlarmState.CLOSED:
        raise ValidationError("state", f"alarm {alarm_id} is closed")
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or user.disabled:
        raise ValidationError("assignee", f"no active user {username!r}")
    if not load_principal(session, user, "password").allows(Permission.ALARM_ACK, row.path):
        raise ValidationError("assignee", f"{username} may not handle alarms at this place")
    before = snapshot(row)
    row.assignee_id = user.id
    return _done(session, row, "assign", before)


def open_ticket_for_alarm(
    session: Session,
    alarm_id: int,
    category: TicketCategory,
    priority: TicketPriority = TicketPriority.HIGH,
    description: str | None = None,
) -> TicketRow:
    """Open a repair ticket on the alarm's device (or place) and keep the link both ways."""
    row = _writable(session, alarm_id)
    if row.ticket_id is not None:
        raise ValidationError("ticket_id", f"alarm {alarm_id} already has ticket {row.ticket_id}")
    data = TicketCreate(
        device_id=row.device_id,
        place_id=None if row.device_id is not None else row.place_id,
        category=category,
        priority=priority,
        description=description or f"{row.rule}: {row.message or row.condition}",
        alarm_id=row.id,
    )
    ticket = open_ticket(session, data)
    before = snapshot(row)
    row.ticket_id = ticket.id
    _done(session, row, "ticket", before)
    return ticket
