"""Read-only questions about tickets: the filtered list, one ticket in full, counts per building and floor.

Every query carries the session's scope as SQL (tickets on devices by device kind too, for
vendors), so a list never shows, and a count never counts, what the caller may not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from twin.auth.scope import device_condition
from twin.errors import ValidationError
from twin.graph.paths import PathNamer
from twin.graph.places import get_place
from twin.operations.catalogue import ACTIVE_TICKET, TicketStatus
from twin.operations.schemas import PhotoPublic, TicketDetail, TicketEventPublic, TicketPublic
from twin.operations.tickets import is_overdue
from twin.store.base import utcnow
from twin.store.models import DeviceRow, PlaceRow
from twin.store.operations import TicketEventRow, TicketPhotoRow, TicketRow
from twin.store.security import UserRow

MAX_LIMIT = 500
ACTIVE = [status.value for status in ACTIVE_TICKET]


def visible(session: Session) -> ColumnElement[bool]:
    """Return the scope condition on tickets (joined to their device, if any): what the caller may see."""
    return device_condition(session, TicketRow.path, func.coalesce(DeviceRow.kind, ""))


def overdue_condition() -> ColumnElement[bool]:
    """Return the SQL test of an overdue ticket: work still owed past its SLA due time."""
    return and_(TicketRow.status.in_(ACTIVE), TicketRow.due_at < func.now())


def scoped(session: Session, query: Select[Any]) -> Select[Any]:
    """Join a ticket query to devices and keep what the caller may see."""
    return query.outerjoin(DeviceRow, DeviceRow.id == TicketRow.device_id).where(visible(session))


@dataclass
class TicketFilter:
    """What a ticket list asks for; empty lists mean any."""

    under: int | None = None
    status: list[TicketStatus] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    overdue: bool | None = None
    assignee: str | None = None
    alarm_id: int | None = None
    device_id: int | None = None
    cursor: str | None = None
    limit: int = 100


def _under(session: Session, place_id: int) -> str:
    return get_place(session, PlaceRow, place_id, "place").path


def list_tickets(session: Session, f: TicketFilter) -> tuple[list[TicketRow], str | None]:
    """Return a page of tickets, newest first, and the cursor of the next page."""
    query = scoped(session, select(TicketRow))
    if f.under is not None:
        query = query.where(TicketRow.path.op("<@")(func.text2ltree(_under(session, f.under))))
    if f.status:
        query = query.where(TicketRow.status.in_([s.value for s in f.status]))
    if f.category:
        query = query.where(TicketRow.category.in_(f.category))
    if f.priority:
        query = query.where(TicketRow.priority.in_(f.priority))
    if f.overdue is not None:
        query = query.where(overdue_condition() if f.overdue else ~overdue_condition())
    if f.assignee is not None:
        query = query.join(UserRow, UserRow.id == TicketRow.assignee_id).where(UserRow.username == f.assignee)
    if f.alarm_id is not None:
        query = query.where(TicketRow.alarm_id == f.alarm_id)
    if f.device_id is not None:
        query = query.where(TicketRow.device_id == f.device_id)
    if f.cursor is not None:
        if not (f.cursor.isascii() and f.cursor.isdigit()) or len(f.cursor) > 18:
            raise ValidationError("cursor", "pass back the 'next' value of the previous page")
        query = query.where(TicketRow.id < int(f.cursor))
    rows = list(session.scalars(query.order_by(TicketRow.id.desc()).limit(f.limit + 1)))
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, str(rows[-1].id) if more and rows else None


def tickets_public(session: Session, rows: Sequence[TicketRow]) -> list[TicketPublic]:
    """Render tickets with their named paths and assignees: two queries for a whole page."""
    namer = PathNamer(session, [row.path for row in rows])
    user_ids = {row.assignee_id for row in rows if row.assignee_id is not None}
    names = (
        dict(session.execute(select(UserRow.id, UserRow.username).where(UserRow.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    now = utcnow()
    return [
        TicketPublic(
            id=row.id,
            site_id=row.site_id,
            place_id=row.place_id,
            device_id=row.device_id,
            path=namer.items(row.path),
            alarm_id=row.alarm_id,
            source=row.source,
            category=row.category,
            priority=row.priority,
            status=row.status,
            title=row.title,
            description=row.description,
            reporter=row.reporter,
            assignee=names.get(row.assignee_id) if row.assignee_id is not None else None,
            opened_at=row.opened_at,
            due_at=row.due_at,
            overdue=is_overdue(row, now),
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            created_at=row.created_at,
        )
        for row in rows
    ]


def photo_url(ticket_id: int, photo_id: int) -> str:
    """Return where a ticket's photo is served."""
    return f"/api/tickets/{ticket_id}/photos/{photo_id}"


def photo_public(row: TicketPhotoRow) -> PhotoPublic:
    """Render a stored photo with the URL it is served at."""
    return PhotoPublic(
        id=row.id,
        media_type=row.media_type,
        size=row.size,
        uploaded_by=row.uploaded_by,
        created_at=row.created_at,
        url=photo_url(row.ticket_id, row.id),
    )


def ticket_detail(session: Session, row: TicketRow) -> TicketDetail:
    """Render one ticket with its full history and its photos."""
    history = session.scalars(
        select(TicketEventRow).where(TicketEventRow.ticket_id == row.id).order_by(TicketEventRow.id)
    )
    photos = session.scalars(
        select(TicketPhotoRow).where(TicketPhotoRow.ticket_id == row.id).order_by(TicketPhotoRow.id)
    )
    return TicketDetail(
        **tickets_public(session, [row])[0].model_dump(),
        history=[TicketEventPublic.model_validate(line, from_attributes=True) for line in history],
        photos=[photo_public(p) for p in photos],
    )


LEVEL_INDEX = {"building": 1, "floor": 2}


def ticket_counts(session: Session, under: int, by: Literal["building", "floor"]) -> list[dict[str, Any]]:
    """Count tickets per building or floor under a place: each active state, overdue, and all active.

    Closed and resolved tickets are counted too, so a screen can show the work done as well.
    """
    path = _under(session, under)
    depth = LEVEL_INDEX[by]
    group = func.ltree2text(func.subpath(TicketRow.path, depth, 1)).label("place")
    columns = [func.count().filter(TicketRow.status == status.value).label(status.value) for status in TicketStatus]
    query = scoped(
        session,
        select(
            group,
            *columns,
            func.count().filter(overdue_condition()).label("overdue"),
            func.count().filter(TicketRow.status.in_(ACTIVE)).label("active"),
        ),
    ).where(TicketRow.path.op("<@")(func.text2ltree(path)), func.nlevel(TicketRow.path) > depth)
    rows = session.execute(query.group_by(group)).all()
    ids = [int(row.place) for row in rows]
    names = dict(session.execute(select(PlaceRow.id, PlaceRow.name).where(PlaceRow.id.in_(ids))).all())
    out = []
    for row in sorted(rows, key=lambda r: int(r.place)):
        counts = {status.value: getattr(row, status.value) for status in TicketStatus}
        place_id = int(row.place)
        out.append(
            {
                "place_id": place_id,
                "name": names.get(place_id, "?"),
                **counts,
                "overdue": row.overdue,
                "active": row.active,
            }
        )
    return out


def overdue_per_building(session: Session, site_id: int) -> dict[int, int]:
    """Count overdue tickets per building of a site (the wall display's counters), in the caller's scope."""
    group = func.ltree2text(func.subpath(TicketRow.path, 1, 1))
    query = scoped(session, select(group, func.count())).where(
        TicketRow.site_id == site_id, func.nlevel(TicketRow.path) > 1, overdue_condition()
    )
    return {int(place): int(n) for place, n in session.execute(query.group_by(group))}


__all__ = [
    "TicketFilter",
    "list_tickets",
    "overdue_per_building",
    "photo_url",
    "ticket_counts",
    "ticket_detail",
    "tickets_public",
    "visible",
]
