"""Emergency links as the command center manages them: the absolute address their QR code holds, list, revoke.

A QR code in the fire brigade box is scanned by a phone that knows no host, so the link is always
absolute: the ``public_url`` setting, else the address the operator's own request reached the
server by. That address may be a loopback one (the server opened on its own machine), which no
phone can reach: the answer then says so, and the view shows it, so nobody prints a dead code.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel
from sqlalchemy import select

from twin.api.deps import SessionDep, require
from twin.audit import audit, snapshot
from twin.auth.roles import Permission
from twin.auth.scope import Principal
from twin.errors import ForbiddenError, NotFoundError
from twin.graph.places import get_place
from twin.schemas import Id
from twin.store.base import utcnow
from twin.store.models import SiteRow
from twin.store.security import EmergencyLinkRow

router = APIRouter(prefix="/api", tags=["auth"])
Creator = Annotated[Principal, Depends(require(Permission.EMERGENCY_CREATE))]

LOOPBACK_WARNING = (
    "this address is the server's own loopback one: a phone that scans the code cannot reach it; set public_url"
)


class EmergencyLinkCreated(BaseModel):
    """A new link: its key and absolute address (shown once), its QR code, and a warning when no phone can reach it."""

    id: int
    key: str
    url: str
    expires_at: datetime
    qr_svg: str
    warning: str | None = None


class EmergencyLinkPublic(BaseModel):
    """A link as listed: never its key (only its hash is kept), but whether it still opens."""

    id: int
    site_id: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    uses: int
    active: bool


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


def _public(link: EmergencyLinkRow) -> EmergencyLinkPublic:
    active = link.revoked_at is None and link.expires_at > utcnow()
    return EmergencyLinkPublic(
        id=link.id,
        site_id=link.site_id,
        created_by=link.created_by,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        uses=link.uses,
        active=active,
    )


@router.get("/emergency-links")
def list_emergency_links(session: SessionDep, principal: Creator, site_id: Id | None = None) -> EmergencyLinkList:
    """List the emergency links of the sites the caller may make them for (one site, when given)."""
    query = select(EmergencyLinkRow, SiteRow.path).join(SiteRow, SiteRow.id == EmergencyLinkRow.site_id)
    if site_id is not None:
        query = query.where(EmergencyLinkRow.site_id == site_id)
    rows = session.execute(query.order_by(EmergencyLinkRow.created_at.desc(), EmergencyLinkRow.id.desc())).all()
    return EmergencyLinkList(
        items=[_public(link) for link, path in rows if principal.allows(Permission.EMERGENCY_CREATE, path)]
    )


@router.delete("/emergency-links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_emergency_link(session: SessionDep, principal: Creator, link_id: Id) -> None:
    """Revoke a link at once: its key opens nothing more, and the tokens it gave stop working."""
    link = session.get(EmergencyLinkRow, link_id, with_for_update=True)
    if link is None:
        raise NotFoundError(f"emergency link {link_id} not found")
    site = get_place(session, SiteRow, link.site_id, "site")
    if not principal.allows(Permission.EMERGENCY_CREATE, site.path):
        raise ForbiddenError(f"your roles do not allow managing the emergency links of site {site.id}")
    if link.revoked_at is not None:
        return
    before = snapshot(link)
    link.revoked_at = utcnow()
    session.flush()
    after = snapshot(link)
    audit(session, action="emergency.revoke", kind="emergency_link", object_id=link.id, before=before, after=after)
