"""Use cases of repair tickets: open, assign, move through the workflow, comment, correct.

A ticket hangs on a place or a device and carries that location path, so whoever may see the
place (or, for vendors, the device's kind) sees the ticket and nobody else does. The workflow is
the declared ``TRANSITIONS`` table; anything else is refused naming both states. The SLA due time
runs from opening (or reopening) by category and priority. Every change writes a history line,
an audit entry and a registry event published after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.authenticate import load_principal
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, principal_of
from twin.errors import NotFoundError, ValidationError
from twin.events import Action, RegistryEvent, record
from twin.graph.devices import get_device
from twin.graph.paths import device_kind, scopes
from twin.graph.places import get_place
from twin.operations.catalogue import (
    ACTIVE_TICKET,
    TICKET_CATEGORIES,
    TRANSITIONS,
    TicketCategory,
    TicketPriority,
    TicketStatus,
    sla,
)
from twin.operations.schemas import TicketCreate, TicketUpdate
from twin.store.base import utcnow
from twin.store.models import DeviceRow, PlaceRow
from twin.store.operations import TicketEventRow, TicketRow
from twin.store.security import UserRow


def _actor(session: Session) -> str:
    return str(session.info.get("actor") or "system")


def is_overdue(row: TicketRow, now: datetime | None = None) -> bool:
    """Tell whether work is still owed on a ticket past its SLA due time."""
    return row.status in ACTIVE_TICKET and row.due_at < (now or utcnow())


def get_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> TicketRow:
    """Load a ticket the session may see, or say there is none (404 naming the id).

    ``lock`` for a change: read ``FOR UPDATE`` before anything is audited (see ``twin.audit``).
    """
    row = session.get(TicketRow, ticket_id, with_for_update=True if lock else None, populate_existing=lock)
    principal = principal_of(session)
    if row is not None and principal is not None:
        kind = ""
        if row.device_id is not None:
            device = session.get(DeviceRow, row.device_id)
            kind = device.kind if device is not None else ""
        if not principal.sees_device(row.path, kind):
            row = None
    if row is None:
        raise NotFoundError(f"ticket {ticket_id} not found")
    return row


def _announce(session: Session, action: Action, row: TicketRow, before: dict[str, Any] | None = None) -> None:
    data = {
        "status": row.status,
        "category": row.category,
        "priority": row.priority,
        "overdue": is_overdue(row),
        "due_at": row.due_at.isoformat(),
        "place_id": row.place_id,
        "device_id": row.device_id,
    }
    if row.device_id is not None:
        data["device_kind"] = device_kind(session, row.device_id)
    record(session, RegistryEvent(action, "ticket", row.id, scopes(row.path, row.device_id), data))
    audit(session, action=f"ticket.{action}", kind="ticket", object_id=row.id, before=before, after=snapshot(row))


def _history(session: Session, row: TicketRow, kind: str, **fields: Any) -> TicketEventRow:
    line = TicketEventRow(ticket_id=row.id, actor=_actor(session), kind=kind, data=fields.pop("data", {}), **fields)
    session.add(line)
    return line


def open_ticket(session: Session, data: TicketCreate, *, source: str | None = None) -> TicketRow:
    """Open a ticket on a place or a device; its SLA due time follows from category and priority.

    The source is the alarm when one is named, the residents' app when the caller is an API key,
    the operator otherwise; inspections open theirs as ``inspection``.
    """
    if (data.place_id is None) == (data.device_id is None):
        raise ValidationError("place_id", "give exactly one of place_id and device_id")
    device: DeviceRow | None = None
    if data.device_id is not None:
        device = get_device(session, data.device_id)
        place_id, path, site_id, where = device.place_id, device.path, device.site_id, device.name
    else:
        place = get_place(session, PlaceRow, data.place_id or 0, "place")
        place_id, path, site_id, where = place.id, place.path, place.site_id or place.id, place.name
    check_allowed(session, Permission.TICKET_WRITE, path, f"place {place_id}")
    principal = principal_of(session)
    if source is None:
        source = (
            "alarm" if data.alarm_id else "app" if principal is not None and principal.via == "apikey" else "operator"
        )
    now = utcnow()
    row = TicketRow(
        site_id=site_id,
        place_id=place_id,
        device_id=device.id if device is not None else None,
        path=path,
        alarm_id=data.alarm_id,
        source=source,
        category=data.category.value,
        priority=data.priority.value,
        status=TicketStatus.OPEN.value,
        title=data.title or f"{TICKET_CATEGORIES[data.category].zh} · {where}",
        description=data.description,
        reporter=_actor(session),
        opened_at=now,
        due_at=now + sla(data.category, data.priority),
    )
    session.add(row)
    session.flush()
    _history(session, row, "created", to_status=row.status, data={"source": source, "alarm_id": data.alarm_id})
    _announce(session, "create", row)
    return row


def writable_ticket(session: Session, ticket_id: int) -> TicketRow:
    """Load a ticket the session may see and change (404 if unseen, 403 if its roles forbid)."""
    row = get_ticket(session, ticket_id, lock=True)
    check_allowed(session, Permission.TICKET_WRITE, row.path, f"ticket {row.id}")
    return row


def _move(row: TicketRow, to: TicketStatus, now: datetime) -> None:
    current = TicketStatus(row.status)
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise ValidationError(
            "status", f"a ticket cannot go from {current.value} to {to.value} (from {current.value}: {allowed})"
        )
    row.status = to.value
    if to is TicketStatus.RESOLVED:
        row.resolved_at = now
    elif to is TicketStatus.CLOSED:
        row.closed_at = now
    elif to is TicketStatus.OPEN:
        row.opened_at = now
        row.due_at = now + sla(TicketCategory(row.category), TicketPriority(row.priority))
        row.resolved_at = row.closed_at = None


def change_status(session: Session, ticket_id: int, to: TicketStatus, note: str | None = None) -> TicketRow:
    """Move a ticket along its workflow; reopening restarts its SLA from now."""
    row = writable_ticket(session, ticket_id)
    if to is TicketStatus.ASSIGNED and row.assignee_id is None:
        raise ValidationError("status", "a ticket is assigned to someone: name them with POST …/assign")
    before, previous = snapshot(row), row.status
    _move(row, to, utcnow())
    session.flush()
    _history(session, row, "status", from_status=previous, to_status=row.status, body=note)
    _announce(session, "update", row, before)
    return row


def _assignee(session: Session, username: str, row: TicketRow) -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or user.disabled:
        raise ValidationError("assignee", f"no active user {username!r}")
    if not load_principal(session, user, "password").allows(Permission.TICKET_WRITE, row.path):
        raise ValidationError("assignee", f"{username} may not work on tickets at this place")
    return user


def assign_ticket(session: Session, ticket_id: int, username: str, note: str | None = None) -> TicketRow:
    """Give a ticket to someone who may work on tickets there; an open ticket becomes assigned."""
    row = writable_ticket(session, ticket_id)
    if row.status not in ACTIVE_TICKET:
        raise ValidationError("status", f"a {row.status} ticket is not assigned; reopen it first")
    user = _assignee(session, username, row)
    before, previous = snapshot(row), row.status
    row.assignee_id = user.id
    if row.status == TicketStatus.OPEN:
        _move(row, TicketStatus.ASSIGNED, utcnow())
    session.flush()
    _history(
        session, row, "assigned", from_status=previous, to_status=row.status, body=note, data={"assignee": username}
    )
    _announce(session, "update", row, before)
    return row


def comment_ticket(session: Session, ticket_id: int, body: str) -> TicketEventRow:
    """Add a comment to a ticket's history."""
    row = writable_ticket(session, ticket_id)
    line = _history(session, row, "comment", body=body)
    session.flush()
    record(session, RegistryEvent("update", "ticket", row.id, scopes(row.path, row.device_id), {"comment": line.id}))
    audit(session, action="ticket.comment", kind="ticket", object_id=row.id, after={"comment": line.id, "body": body})
    return line


def update_ticket(session: Session, ticket_id: int, data: TicketUpdate) -> TicketRow:
    """Correct a ticket; a new category or priority moves its SLA due time (from its opening)."""
    row = writable_ticket(session, ticket_id)
    before = snapshot(row)
    changed = data.model_dump(exclude_none=True, mode="json")
    for key, value in changed.items():
        setattr(row, key, value)
    if "category" in changed or "priority" in changed:
        row.due_at = row.opened_at + sla(TicketCategory(row.category), TicketPriority(row.priority))
    session.flush()
    _history(session, row, "updated", data=changed)
    _announce(session, "update", row, before)
    return row


__all__ = [
    "assign_ticket",
    "change_status",
    "comment_ticket",
    "get_ticket",
    "is_overdue",
    "open_ticket",
    "update_ticket",
    "writable_ticket",
]
