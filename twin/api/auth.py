"""Logging in, refreshing, emergency links and "who am I": the routes that authenticate by themselves."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from twin.api.deps import PrincipalDep, RawSessionDep, RuntimeDep, SessionDep, require
from twin.api.emergency_links import EmergencyLinkCreated, link_base
from twin.audit import audit
from twin.auth import tokens
from twin.auth.passwords import hash_password, needs_rehash, verify_password
from twin.auth.roles import PERMISSIONS, Permission
from twin.auth.scope import Principal
from twin.graph.places import get_place
from twin.schemas import Id
from twin.store.base import utcnow
from twin.store.models import SiteRow
from twin.store.security import EmergencyLinkRow, RefreshTokenRow, UserRow

router = APIRouter(prefix="/api/auth", tags=["auth"])
me_router = APIRouter(prefix="/api", tags=["auth"])


class Login(BaseModel):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Refresh(BaseModel):
    """A refresh token to exchange."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class EmergencyKey(BaseModel):
    """The key of an emergency link."""

    key: str = Field(min_length=16, max_length=128)


class EmergencyLinkCreate(BaseModel):
    """A responder view of one site for some hours."""

    site_id: Id
    hours: int = Field(default=12, ge=1, le=72)


class TokenPair(BaseModel):
    """Tokens issued at login or refresh."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


def _pair(session: Any, key: str, user: UserRow) -> TokenPair:
    access, _ = tokens.issue(key, str(user.id), "access", tokens.ACCESS_SECONDS)
    refresh, claims = tokens.issue(key, str(user.id), "refresh", tokens.REFRESH_SECONDS)
    session.add(
        RefreshTokenRow(
            token_id=claims.token_id, user_id=user.id, expires_at=utcnow() + timedelta(seconds=tokens.REFRESH_SECONDS)
        )
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=tokens.ACCESS_SECONDS)


@router.post("/login")
def login(request: Request, body: Login, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair:
    """Exchange a user name and password for tokens; failures are limited per user and per address."""
    address = request.client.host if request.client else "?"
    limiter = runtime.login_limiter
    wait = limiter.retry_after(f"user:{body.username}", f"addr:{address}")
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins; wait and try again",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = session.query(UserRow).filter(UserRow.username == body.username).one_or_none()
    if (
        user is None
        or user.disabled
        or user.password_hash is None
        or not verify_password(user.password_hash, body.password)
    ):
        limiter.fail(f"user:{body.username}", f"addr:{address}")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"}
        )
    limiter.succeed(f"user:{body.username}")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(body.password)
    session.info["actor"] = user.username
    audit(session, action="auth.login", kind="user", object_id=user.id)
    return _pair(session, runtime.signing_key, user)


@router.post("/refresh")
def refresh(body: Refresh, session: RawSessionDep, runtime: RuntimeDep) -> TokenPair:
    """Exchange a refresh token for new tokens; each refresh token works once (rotation)."""
    try:
        claims = tokens.verify(runtime.signing_key, body.refresh_token, "refresh")
    except tokens.TokenError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.message) from exc
    row = session.get(RefreshTokenRow, claims.token_id, with_for_update=True)
    user = session.get(UserRow, int(claims.subject))
    if row is None or row.used_at is not None or user is None or user.disabled:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "refresh token already used or revoked")
    row.used_at = utcnow()
    return _pair(session, runtime.signing_key, user)


@router.post("/emergency")
def use_emergency_link(
    request: Request, body: EmergencyKey, session: RawSessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Exchange an emergency link's key for a responder token on its site, until the link expires."""
    digest = hashlib.sha256(body.key.encode()).hexdigest()
    link = session.query(EmergencyLinkRow).filter(EmergencyLinkRow.key_hash == digest).one_or_none()
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "emergency link unknown, expired or revoked")
    link.uses += 1
    seconds = int((link.expires_at - utcnow()).total_seconds())
    token, _ = tokens.issue(runtime.signing_key, f"emergency:{link.id}", "emergency", seconds)
    audit(
        session,
        action="emergency.use",
        kind="emergency_link",
        object_id=link.id,
        actor=f"emergency-link-{link.id}",
        after={"uses": link.uses, "site_id": link.site_id},
    )
    return {"access_token": token, "token_type": "bearer", "expires_in": seconds, "site_id": link.site_id}


@me_router.get("/me")
def me(principal: PrincipalDep) -> dict[str, Any]:
    """Say who the caller is, with their grants and what they may do (the view shows only allowed actions)."""
    permissions = sorted({p.value for g in principal.grants for p in PERMISSIONS[g.role]})
    return {
        "username": principal.username,
        "via": principal.via,
        "wall_display": principal.wall_display,
        "roles": sorted(r.value for r in principal.roles),
        "permissions": permissions,
        "grants": [
            {"role": g.role.value, "path": g.path, "device_kinds": sorted(g.device_kinds or [])}
            for g in principal.grants
        ],
    }


@me_router.post("/emergency-links", status_code=status.HTTP_201_CREATED)
def create_emergency_link(
    request: Request,
    body: EmergencyLinkCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Permission.EMERGENCY_CREATE))],
) -> EmergencyLinkCreated:
    """Create a time-limited responder link to one site, with its QR code for the fire brigade box."""
    site = get_place(session, SiteRow, body.site_id, "site")
    if not principal.allows(Permission.EMERGENCY_CREATE, site.path):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your roles do not allow emergency links for this site")
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


def _qr_svg(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
