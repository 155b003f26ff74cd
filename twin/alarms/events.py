"""How an alarm change is told: a registry event after commit, and the plain data it carries.

The live hub forwards these events to the screens whose scope holds the alarm's path; the
notifiers listen for the critical and escalated ones. Nothing is told before the commit, so no
screen shows an alarm that a rolled-back transaction never stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from twin.events import Action, RegistryEvent, record
from twin.graph.paths import device_kind, scopes
from twin.store.alarms import AlarmRow

ALARM_EVENT = "alarm"


def alarm_data(row: AlarmRow) -> dict[str, Any]:
    """Return an alarm as the plain data events, notifiers and the API share."""
    return {
        "id": row.id,
        "rule": row.rule,
        "subject": row.subject,
        "condition": row.condition,
        "severity": row.severity,
        "state": row.state,
        "site_id": row.site_id,
        "place_id": row.place_id,
        "device_id": row.device_id,
        "path": row.path,
        "households": list(row.households or []),
        "message": row.message,
        "value": row.value,
        "parent_id": row.parent_id,
        "occurrences": row.occurrences,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "escalations": row.escalations,
        "ticket_id": row.ticket_id,
    }


def announce(session: Session, action: Action, row: AlarmRow, *, cause: str) -> None:
    """Queue the event of an alarm change, published when the session commits."""
    data = alarm_data(row)
    data["cause"] = cause
    if row.device_id is not None:
        data["device_kind"] = device_kind(session, row.device_id)
    record(session, RegistryEvent(action, ALARM_EVENT, row.id, scopes(row.path, row.device_id), data))
