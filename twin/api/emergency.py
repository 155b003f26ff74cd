"""Emergency links for the fire brigade box: create one for a site, list them, revoke one.

A QR code in the fire brigade box is scanned by a phone that knows no host, so the link is always
absolute: the ``public_url`` setting, else the address the operator's own request reached the
server by. That address may be a loopback one (the server opened on its own machine), which no
phone can reach: the answer then says so, and the view shows it, so nobody prints a dead code.

A link's key is shown once, at creation, and kept only as its hash. A link ends at its expiry
(8 hours unless asked otherwise, 72 at most: a link printed on paper must not stay good for
long) or when an operator revokes it; either way its key is refused at once, and so is every
responder token issued from it, since such a token is checked against the link at each request
(``twin.auth.authenticate``). Only those who may create links at a site see and revoke its links;
a link elsewhere is a 404, as every object outside one's scope is.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.api.deps import RuntimeDep, SessionDep, require
from twin.audit import audit
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.errors import ForbiddenError, NotFoundError
from twin.graph.places import get_place
from twin.schemas import Id, Strict
from twin.store.base import utcnow
from twin.store.models import SiteRow
from twin.store.security import EmergencyLinkRow, UserRow

router = APIRouter(prefix="/api/emergency-links", tags=["auth"])
Creator = Annotated[Principal, Depends(require(Permission.EMERGENCY_CREATE))]

DEFAULT_HOURS = 8
MAX_HOURS = 72
LOOPBACK_WARNING = (
    "this address is the server's own loopback one: a phone that scans the code cannot reach it; set public_url"
)


class EmergencyLinkCreate(Strict):
    """A responder view of one site for some hours."""

    site_id: Id
    hours: int = Field(default=DEFAULT_HOURS, ge=1, le=MAX_HOURS)


class EmergencyLinkCreated(BaseModel):
    """A new link: its key and URL are shown this once, with the QR code for the box."""

    id: int
    key: str
    url: str
    expires_at: datetime
    qr_svg: str
    warning: str | None = None
    """Set when no phone could reach ``url`` (a loopback address)."""


class EmergencyLinkPublic(BaseModel):
    """A link as listed: never its key."""

    id: int
    site_id: int
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    uses: int
    active: bool

    @classmethod
    def of(cls, row: EmergencyLinkRow, creator: str | None, now: datetime) -> EmergencyLinkPublic:
        """Describe a link, active while neither revoked nor expired."""
        return cls(
            id=row.id,
            site_id=row.site_id,
            created_by=creator,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            uses=row.uses,
            active=row.revoked_at is None and row.expires_at > now,
        )


class EmergencyLinkList(BaseModel):
    """The links of the sites the caller may make links for, newest first."""

    items: list[EmergencyLinkPublic]


def link_base(public_url: str | None, request: Request) -> tuple[str, str | None]:
    """Return the absolute base of links (``public_url``, else the address of this request) and any warning."""
    base = (public_url or str(request.base_url)).rstrip("/")
    host = urlsplit(base).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host.endswith(".localhost")
    return base, LOOPBACK_WARNING if loopback else None


@router.post("", status_code=status.HTTP_201_CREATED)
def create_emergency_link(
    request: Request, body: EmergencyLinkCreate, session: SessionDep, runtime: RuntimeDep, principal: Creator
) -> EmergencyLinkCreated:
    """Create a time-limited responder link to one site, with its QR code for the fire brigade box."""
    site = get_place(session, SiteRow, body.site_id, "site")
    if not principal.allows(Permission.EMERGENCY_CREATE, site.path):
        raise ForbiddenError("your roles do not allow emergency links for this site")
    key = secrets.token_urlsafe(24)
    link = EmergencyLinkRow(
        site_id=site.id,
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        created_by=principal.user_id,
        expires_at=utcnow() + timedelta(hours=body.hours),
    )
    session.add(link)
    session.flush()
    audit(
        session,
        action="emergency.create",
        kind="emergency_link",
        object_id=link.id,
        after={"site_id": site.id, "hours": body.hours},
    )
    base, warning = link_base(runtime.settings.public_url, request)
    url = f"{base}/respond?key={key}"
    return EmergencyLinkCreated(
        id=link.id, key=key, url=url, expires_at=link.expires_at, qr_svg=_qr_svg(url), warning=warning
    )


@router.get("")
def list_emergency_links(
    session: SessionDep,
    principal: Creator,
    site_id: Annotated[Id | None, Query(description="Only this site's links.")] = None,
    ended: Annotated[bool, Query(description="Also the links that expired or were revoked.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EmergencyLinkList:
    """List the links of the sites where the caller may create them, newest first."""
    now = utcnow()
    stmt = (
        select(EmergencyLinkRow, SiteRow.path, UserRow.username)
        .join(SiteRow, SiteRow.id == EmergencyLinkRow.site_id)
        .outerjoin(UserRow, UserRow.id == EmergencyLinkRow.created_by)
        .order_by(EmergencyLinkRow.id.desc())
    )
    if site_id is not None:
        stmt = stmt.where(EmergencyLinkRow.site_id == site_id)
    if not ended:
        stmt = stmt.where(EmergencyLinkRow.revoked_at.is_(None), EmergencyLinkRow.expires_at > now)
    out: list[EmergencyLinkPublic] = []
    for row, path, creator in session.execute(stmt):
        if principal.allows(Permission.EMERGENCY_CREATE, path):
            out.append(EmergencyLinkPublic.of(row, creator, now))
            if len(out) == limit:
                break
    return EmergencyLinkList(items=out)


@router.delete("/{link_id}")
def revoke_emergency_link(session: SessionDep, link_id: Id, principal: Creator) -> EmergencyLinkPublic:
    """Revoke a link: its key and the responder tokens issued from it are refused from now on."""
    row = _link(session, link_id, principal)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        audit(
            session,
            action="emergency.revoke",
            kind="emergency_link",
            object_id=row.id,
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at, "site_id": row.site_id},
        )
    creator = session.scalar(select(UserRow.username).where(UserRow.id == row.created_by))
    return EmergencyLinkPublic.of(row, creator, utcnow())


def _link(session: Session, link_id: int, principal: Principal) -> EmergencyLinkRow:
    """Load a link for change, locked: 404 unless its site is seen, 403 if seen but not one's to manage."""
    row = session.get(EmergencyLinkRow, link_id, with_for_update=True)
    site = session.get(SiteRow, row.site_id) if row is not None else None
    if row is None or site is None or not principal.sees_place(site.path):
        raise NotFoundError(f"emergency link {link_id} not found")
    if not principal.allows(Permission.EMERGENCY_CREATE, site.path):
        raise ForbiddenError(f"your roles do not allow managing the emergency links of site {site.id}")
    return row


def _qr_svg(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
