"""What needs eyes on a device or a place: its active alarms and its open tickets.

The device and space panels show them next to the object, with the actions the role allows,
so the answer to ``GET /api/devices/{id}`` and ``GET /api/spaces/{id}`` carries them: one
request per panel, in the caller's scope (the alarm and ticket lists are scoped as every list is).
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.alarms.queries import AlarmFilter, list_alarms
from twin.alarms.schemas import AlarmPublic
from twin.alarms.severity import AlarmState
from twin.operations.catalogue import ACTIVE_TICKET
from twin.operations.schemas import TicketPublic
from twin.operations.ticket_queries import TicketFilter, list_tickets, tickets_public
from twin.schemas import DevicePublic, SpacePublic
from twin.store.security import UserRow

ACTIVE_ALARM = (AlarmState.RAISED, AlarmState.ACKNOWLEDGED)
"""The alarms a panel lists: a cleared one needs no hand any more (it is closed from the alarm list)."""
PANEL_LIMIT = 50
"""At most this many alarms and tickets in a panel: a storm is one root with its children counted."""


class ActiveAlarm(AlarmPublic):
    """An alarm as a panel shows it: with its assignee's name, not only the id."""

    assignee: str | None


class Attention(BaseModel):
    """The active alarms (worst and newest first) and the open tickets (newest first) of an object."""

    alarms: list[ActiveAlarm]
    tickets: list[TicketPublic]


class DeviceDetail(DevicePublic, Attention):
    """A device with its place, its active alarms and its open tickets."""


class SpaceDetail(SpacePublic, Attention):
    """A space with its place, and the active alarms and open tickets in it."""


def attention(session: Session, *, device_id: int | None = None, under: int | None = None) -> Attention:
    """Return the active alarms and open tickets of one device, or of everything under a place."""
    found = AlarmFilter(device_id=device_id, under=under, states=ACTIVE_ALARM, roots_only=device_id is None)
    rows = list_alarms(session, found, limit=PANEL_LIMIT)
    users = {row.assignee_id for row, _ in rows if row.assignee_id is not None}
    names: dict[int, str] = {}
    if users:
        names = {
            uid: name
            for uid, name in session.execute(select(UserRow.id, UserRow.username).where(UserRow.id.in_(users)))
        }
    alarms = [
        ActiveAlarm(**AlarmPublic.of(row, n).model_dump(), assignee=names.get(row.assignee_id or -1)) for row, n in rows
    ]
    open_ = TicketFilter(device_id=device_id, under=under, status=list(ACTIVE_TICKET), limit=PANEL_LIMIT)
    tickets, _next = list_tickets(session, open_)
    return Attention(alarms=alarms, tickets=tickets_public(session, tickets))
