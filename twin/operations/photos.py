"""Photos of tickets: checked by their first bytes, capped in size, stored by generated names.

A file's name and its declared type are the client's word; its magic bytes are not, so only a
real JPEG, PNG or WebP is kept, whatever it is called. Files are written under the server's home
with a random name and served back only through their ticket (scope-checked), by a name this
module made and re-checks, so no request can reach a path of its own choosing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.errors import NotFoundError, TwinError
from twin.events import RegistryEvent, record
from twin.graph.paths import scopes
from twin.operations.tickets import get_ticket, writable_ticket
from twin.store.operations import TicketEventRow, TicketPhotoRow

MAX_PHOTO_BYTES = 8 << 20
"""A phone photo is a few megabytes; anything much larger is not a photo of a leak."""
_CHUNK = 1 << 16
_STORED = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|webp)$")


class PhotoTypeError(TwinError):
    """A file that is not a JPEG, PNG or WebP image (the API answers 415)."""


class PhotoTooLarge(TwinError):
    """A file above the photo size limit (the API answers 413)."""


def sniff(head: bytes) -> tuple[str, str] | None:
    """Return the media type and extension the first bytes of a file prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def photos_root(home: Path) -> Path:
    """Return the folder ticket photos live in."""
    return home / "photos"


def _copy(stream: IO[bytes], target: Path, limit: int) -> tuple[str, str, int, str]:
    """Copy an upload to ``target``, refusing a wrong type early and a size above ``limit``."""
    digest = hashlib.sha256()
    size = 0
    kind: tuple[str, str] | None = None
    with target.open("xb") as out:
        while chunk := stream.read(_CHUNK):
            if kind is None:
                kind = sniff(chunk[:12])
                if kind is None:
                    raise PhotoTypeError("the file is not a JPEG, PNG or WebP image (judged by its content)")
            size += len(chunk)
            if size > limit:
                raise PhotoTooLarge(f"a photo may be at most {limit} bytes")
            digest.update(chunk)
            out.write(chunk)
    if kind is None:
        raise PhotoTypeError("the file is empty")
    return kind[0], kind[1], size, digest.hexdigest()


def add_photo(
    session: Session, ticket_id: int, stream: IO[bytes], root: Path, limit: int = MAX_PHOTO_BYTES
) -> TicketPhotoRow:
    """Store a photo of a ticket, once per content; on any refusal or failure nothing stays on disk."""
    ticket = writable_ticket(session, ticket_id)
    root.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    partial = root / f".{token}.part"
    stored: Path | None = None
    try:
        media_type, ext, size, sha = _copy(stream, partial, limit)
        same = session.scalar(
            select(TicketPhotoRow).where(TicketPhotoRow.ticket_id == ticket.id, TicketPhotoRow.sha256 == sha)
        )
        if same is not None:
            # The same bytes sent again (a tablet retrying an upload whose answer it lost) are the same photo.
            partial.unlink()
            return same
        stored = partial.rename(root / f"{token}.{ext}")
        actor = str(session.info.get("actor") or "system")
        row = TicketPhotoRow(
            ticket_id=ticket.id,
            stored_name=stored.name,
            media_type=media_type,
            size=size,
            sha256=sha,
            uploaded_by=actor,
        )
        session.add(row)
        session.flush()
        session.add(TicketEventRow(ticket_id=ticket.id, actor=actor, kind="photo", data={"photo_id": row.id}))
        session.flush()
    except BaseException:
        partial.unlink(missing_ok=True)
        if stored is not None:
            stored.unlink(missing_ok=True)
        raise
    record(
        session, RegistryEvent("update", "ticket", ticket.id, scopes(ticket.path, ticket.device_id), {"photo": row.id})
    )
    audit(
        session,
        action="ticket.photo",
        kind="ticket",
        object_id=ticket.id,
        after={"photo_id": row.id, "media_type": media_type, "size": size, "sha256": sha},
    )
    return row


def photo_file(session: Session, ticket_id: int, photo_id: int, root: Path) -> tuple[Path, str]:
    """Return the file and media type of a ticket's photo the caller may see, or say there is none."""
    get_ticket(session, ticket_id)
    row = session.get(TicketPhotoRow, photo_id)
    if row is None or row.ticket_id != ticket_id or not _STORED.match(row.stored_name):
        raise NotFoundError(f"photo {photo_id} of ticket {ticket_id} not found")
    base = root.resolve()
    path = (base / row.stored_name).resolve()
    if path.parent != base or not path.is_file():
        raise NotFoundError(f"photo {photo_id} of ticket {ticket_id} not found")
    return path, row.media_type
