"""Repair tickets: open, list and count, read in full, assign, move through the workflow, comment, photos.

Photos are uploaded under ``/api/uploads/…`` (the body limit of uploads applies there) as a
multipart form, parsed only after the caller is authenticated and allowed to write the ticket;
they are served back only through their ticket, in the caller's scope.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from twin.api.deps import RuntimeDep, SessionDep
from twin.auth.deps import require
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.errors import ValidationError
from twin.operations import catalogue
from twin.operations import tickets as uc
from twin.operations.catalogue import TicketStatus
from twin.operations.photos import PhotoTooLarge, PhotoTypeError, add_photo, photo_file, photos_root
from twin.operations.schemas import (
    CommentCreate,
    PhotoPublic,
    TicketAssign,
    TicketCounts,
    TicketCreate,
    TicketDetail,
    TicketEventPublic,
    TicketPage,
    TicketPublic,
    TicketTransition,
    TicketUpdate,
)
from twin.operations.ticket_queries import (
    MAX_LIMIT,
    TicketFilter,
    list_tickets,
    photo_public,
    ticket_counts,
    ticket_detail,
    tickets_public,
)
from twin.schemas import Flag, Id

router = APIRouter(prefix="/api", tags=["tickets"])
Writer = Annotated[Principal, Depends(require(Permission.TICKET_WRITE))]
_PHOTO_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.get("/operations/catalogue")
def operations_catalogue() -> dict[str, Any]:
    """Return the labels and colours of ticket, billing and inspection states, and the SLA table."""
    return catalogue.as_json()


@router.post("/tickets", status_code=status.HTTP_201_CREATED)
def open_ticket(session: SessionDep, body: TicketCreate, principal: Writer) -> TicketPublic:
    """Open a ticket on a place or a device (from an alarm with ``alarm_id``)."""
    return tickets_public(session, [uc.open_ticket(session, body)])[0]


@router.get("/tickets")
def list_tickets_route(
    session: SessionDep,
    under: Annotated[Id | None, Query(description="A site, building, floor or space id: its whole subtree.")] = None,
    status_: Annotated[list[TicketStatus] | None, Query(alias="status")] = None,
    category: Annotated[list[catalogue.TicketCategory] | None, Query()] = None,
    priority: Annotated[list[catalogue.TicketPriority] | None, Query()] = None,
    overdue: Flag | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    alarm_id: Id | None = None,
    device_id: Id | None = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> TicketPage:
    """List tickets by subtree, status, category, priority, overdue, assignee, alarm or device; newest first."""
    f = TicketFilter(
        under=under,
        status=status_ or [],
        category=[c.value for c in category or []],
        priority=[p.value for p in priority or []],
        overdue=overdue,
        assignee=assignee,
        alarm_id=alarm_id,
        device_id=device_id,
        cursor=cursor,
        limit=limit,
    )
    rows, next_cursor = list_tickets(session, f)
    return TicketPage(items=tickets_public(session, rows), next=next_cursor)


@router.get("/tickets/counts")
def count_tickets(session: SessionDep, under: Id, by: Literal["building", "floor"] = "building") -> TicketCounts:
    """Count tickets per building or floor under a place: per state, overdue and active."""
    return TicketCounts.model_validate({"items": ticket_counts(session, under, by)})


@router.get("/tickets/{ticket_id}")
def get_ticket(session: SessionDep, ticket_id: Id) -> TicketDetail:
    """Read a ticket with its full history and its photos."""
    return ticket_detail(session, uc.get_ticket(session, ticket_id))


@router.patch("/tickets/{ticket_id}")
def update_ticket(session: SessionDep, ticket_id: Id, body: TicketUpdate, principal: Writer) -> TicketPublic:
    """Correct a ticket's category, priority or text."""
    return tickets_public(session, [uc.update_ticket(session, ticket_id, body)])[0]


@router.post("/tickets/{ticket_id}/assign")
def assign_ticket(session: SessionDep, ticket_id: Id, body: TicketAssign, principal: Writer) -> TicketPublic:
    """Give a ticket to someone; an open ticket becomes assigned."""
    return tickets_public(session, [uc.assign_ticket(session, ticket_id, body.assignee, body.note)])[0]


@router.post("/tickets/{ticket_id}/status")
def change_status(session: SessionDep, ticket_id: Id, body: TicketTransition, principal: Writer) -> TicketPublic:
    """Move a ticket along its workflow; an illegal move is a 422 naming both states."""
    return tickets_public(session, [uc.change_status(session, ticket_id, body.status, body.note)])[0]


@router.post("/tickets/{ticket_id}/comments", status_code=status.HTTP_201_CREATED)
def comment_ticket(session: SessionDep, ticket_id: Id, body: CommentCreate, principal: Writer) -> TicketEventPublic:
    """Comment on a ticket."""
    line = uc.comment_ticket(session, ticket_id, body.body)
    session.refresh(line)
    return TicketEventPublic.model_validate(line, from_attributes=True)


@router.post("/uploads/tickets/{ticket_id}/photos", status_code=status.HTTP_201_CREATED, openapi_extra=_PHOTO_SCHEMA)
async def upload_photo(
    request: Request, session: SessionDep, runtime: RuntimeDep, ticket_id: Id, principal: Writer
) -> PhotoPublic:
    """Attach a photo (JPEG, PNG or WebP, judged by its content) to a ticket."""
    await run_in_threadpool(uc.writable_ticket, session, ticket_id)
    async with request.form(max_files=1, max_fields=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("file", "attach the photo as the multipart field 'file'")
        try:
            row = await run_in_threadpool(
                add_photo, session, ticket_id, upload.file, photos_root(runtime.settings.home)
            )
            return await run_in_threadpool(photo_public, row)
        except PhotoTypeError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, exc.message) from exc
        except PhotoTooLarge as exc:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, exc.message) from exc


@router.get("/tickets/{ticket_id}/photos/{photo_id}", response_class=FileResponse)
def get_photo(session: SessionDep, runtime: RuntimeDep, ticket_id: Id, photo_id: Id) -> FileResponse:
    """Return a ticket's photo, as the image it was proven to be."""
    path, media_type = photo_file(session, ticket_id, photo_id, photos_root(runtime.settings.home))
    return FileResponse(
        path,
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
        content_disposition_type="inline",
        filename=f"ticket-{ticket_id}-photo-{photo_id}{path.suffix}",
    )
