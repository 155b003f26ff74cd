"""The current state of a scope, as a subscriber first receives it: devices, alarms, tickets, bills.

Read from the store in one transaction in the caller's scope (the principal rides on the
session, so every use case filters as the REST API does); the live ingest's newer values are laid
over it on the event loop afterwards (``overlay``), because the table lags memory by up to a
flush. Residents' names never appear: a live screen shows standing, not people.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from realtime.hub.access import Target
from twin.alarms.events import alarm_data
from twin.alarms.queries import AlarmFilter, list_alarms
from twin.alarms.severity import ACTIVE_STATES
from twin.auth.scope import Principal, device_condition
from twin.graph.paths import scopes
from twin.operations.billing_queries import unit_statuses
from twin.operations.catalogue import ACTIVE_TICKET, BillingStatus
from twin.operations.ticket_queries import TicketFilter, list_tickets
from twin.operations.tickets import is_overdue
from twin.store.models import DeviceRow
from twin.store.telemetry import DeviceStateRow, stored_value

MAX_ALARMS = 2000
MAX_TICKETS = 1000


def snapshot(session: Session, principal: Principal, target: Target) -> dict[str, Any]:
    """Return the snapshot body of a checked subscription (without its envelope)."""
    session.info["principal"] = principal
    body: dict[str, Any] = {}
    kinds = target.kinds
    if kinds & {"telemetry", "status"}:
        body["devices"] = _devices(session, target)
    if "alarm" in kinds:
        body["alarms"] = _alarms(session, target)
    if "ticket" in kinds:
        body["tickets"] = _tickets(session, target)
    if "billing" in kinds:
        body["billing"] = _billing(session, target)
    return body


def _devices(session: Session, target: Target) -> list[dict[str, Any]]:
    query = select(DeviceRow.id, DeviceRow.kind, DeviceRow.name, DeviceRow.path, DeviceRow.health, DeviceRow.last_seen)
    if target.device_id is not None:
        query = query.where(DeviceRow.id == target.device_id)
    else:
        query = query.where(DeviceRow.path.op("<@")(func.text2ltree(target.path)))
    query = query.where(DeviceRow.retired_at.is_(None), device_condition(session, DeviceRow.path, DeviceRow.kind))
    rows = session.execute(query.order_by(DeviceRow.id)).all()
    devices: dict[int, dict[str, Any]] = {
        r.id: {
            "id": r.id,
            "kind": r.kind,
            "name": r.name,
            "path": list(scopes(r.path, r.id)),
            "health": r.health,
            "last_seen": r.last_seen.timestamp() if r.last_seen else None,
            "state": {},
        }
        for r in rows
        if target.device_kinds is None or r.kind in target.device_kinds
    }
    if devices:
        state = session.execute(select(DeviceStateRow).where(DeviceStateRow.device_id.in_(list(devices)))).scalars()
        for s in state:
            devices[s.device_id]["state"][s.quantity] = {
                "value": stored_value(s.value, s.flag, s.text),
                "unit": s.unit,
                "time": s.time.timestamp(),
            }
    return list(devices.values())


def _alarms(session: Session, target: Target) -> list[dict[str, Any]]:
    """Return the scope's active alarms, every root before any storm's child.

    A screen counts roots and shows beside each how many children it holds: past the cap, a big
    storm's children must not push a root out, so the roots are read first and the children fill
    what room is left.
    """
    if target.device_id is not None:
        f = AlarmFilter(device_id=target.device_id, states=ACTIVE_STATES, roots_only=False)
    else:
        f = AlarmFilter(under=target.place_id, states=ACTIVE_STATES, roots_only=False)
    roots = list_alarms(session, replace(f, roots_only=True), limit=MAX_ALARMS)
    held = {row.id for row, _ in roots}
    rest = [(row, n) for row, n in list_alarms(session, f, limit=MAX_ALARMS) if row.id not in held]
    found = roots + rest[: MAX_ALARMS - len(roots)]
    ids = {row.device_id for row, _ in found if row.device_id is not None}
    kinds = (
        dict(session.execute(select(DeviceRow.id, DeviceRow.kind).where(DeviceRow.id.in_(ids))).all()) if ids else {}
    )
    out = []
    for row, children in found:
        data = alarm_data(row)
        data["path"] = list(scopes(row.path, row.device_id))
        data["children"] = children
        if row.device_id in kinds:
            data["device_kind"] = kinds[row.device_id]
        out.append(data)
    return out


def _tickets(session: Session, target: Target) -> list[dict[str, Any]]:
    f = TicketFilter(under=target.place_id, device_id=target.device_id, status=list(ACTIVE_TICKET), limit=MAX_TICKETS)
    rows, _ = list_tickets(session, f)
    return [
        {
            "id": t.id,
            "title": t.title,
            "status": t.status,
            "priority": t.priority,
            "category": t.category,
            "place_id": t.place_id,
            "device_id": t.device_id,
            "path": list(scopes(t.path, t.device_id)),
            "overdue": is_overdue(t),
            "due_at": t.due_at.isoformat(),
        }
        for t in rows
    ]


def _billing(session: Session, target: Target) -> dict[str, Any] | None:
    if target.place_id is None:
        return None
    units = unit_statuses(session, target.place_id, None)
    billed = [u for u in units if u.status is not BillingStatus.NO_BILLS]
    paid = sum(1 for u in billed if u.status is BillingStatus.PAID)
    return {
        "units": [
            {
                "id": u.unit_id,
                "status": u.status.value,
                "overdue_days": u.overdue_days,
                "overdue_amount": f"{u.overdue_amount:.2f}",
            }
            for u in units
        ],
        "rate": round(paid / len(billed), 4) if billed else None,
    }
