"""Accounts, grants, API keys and the audit log, for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from twin.api.deps import SessionDep, require
from twin.audit import verify
from twin.auth import delegation, users
from twin.auth.roles import Permission, Role
from twin.auth.scope import Principal
from twin.schemas import Flag, Id, Moment
from twin.store.security import AuditRow

router = APIRouter(prefix="/api", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Permission.USER_ADMIN))]
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


class UserCreate(BaseModel):
    """A new account."""

    username: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=10, max_length=256)
    display_name: str | None = Field(default=None, max_length=200)
    wall_display: Flag = False


class GrantCreate(BaseModel):
    """A role on a place's subtree."""

    role: Role
    place_id: Id | None = None
    device_kinds: list[str] | None = None


class ApiKeyCreate(BaseModel):
    """A key for a machine acting as an account."""

    username: str
    name: str = Field(min_length=1, max_length=100)


@router.get("/users")
def list_users(session: SessionDep, _: Admin) -> dict[str, list[dict[str, Any]]]:
    """List the accounts one administers (or created), with the grants one administers."""
    return {
        "items": [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "disabled": u.disabled,
                "wall_display": u.wall_display,
                "grants": [
                    {"id": g.id, "role": g.role, "place_id": g.place_id, "device_kinds": g.device_kinds} for g in gs
                ],
            }
            for u, gs in users.list_users(session)
        ]
    }


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, session: SessionDep, _: Admin) -> dict[str, Any]:
    """Create an account."""
    row = users.add_user(session, body.username, body.password, body.display_name, body.wall_display)
    return {"id": row.id, "username": row.username}


@router.post("/users/{username}/grants", status_code=status.HTTP_201_CREATED)
def add_grant(username: str, body: GrantCreate, session: SessionDep, _: Admin) -> dict[str, Any]:
    """Give an account a role on a place."""
    row = users.grant(session, username, body.role, body.place_id, body.device_kinds)
    return {"id": row.id, "role": row.role, "place_id": row.place_id}


@router.post("/users/{username}/disable")
def disable_user(username: str, session: SessionDep, _: Admin) -> dict[str, Any]:
    """Disable an account at once."""
    row = users.disable_user(session, username)
    return {"username": row.username, "disabled": row.disabled}


@router.post("/apikeys", status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, session: SessionDep, _: Admin) -> dict[str, Any]:
    """Create an API key; its secret is in this answer and nowhere else."""
    row, secret = users.create_api_key(session, body.username, body.name)
    return {"id": row.id, "prefix": row.prefix, "key": secret}


@router.delete("/apikeys/{prefix}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(prefix: str, session: SessionDep, _: Admin) -> None:
    """Revoke an API key."""
    users.revoke_api_key(session, prefix)


@router.get("/audit")
def list_audit(
    session: SessionDep,
    _: Auditor,
    actor: str | None = None,
    action: str | None = None,
    kind: str | None = None,
    object_id: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Id | None = None,
) -> dict[str, Any]:
    """List audit entries in one's scope, newest first, filtered by actor, action, object and time."""
    stmt = select(AuditRow).where(delegation.audit_condition(session)).order_by(AuditRow.id.desc()).limit(limit)
    for column, value in (
        (AuditRow.actor, actor),
        (AuditRow.action, action),
        (AuditRow.object_kind, kind),
        (AuditRow.object_id, object_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditRow.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRow.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditRow.id < before_id)
    rows = list(session.scalars(stmt))
    return {
        "items": [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "address": r.address,
                "action": r.action,
                "kind": r.object_kind,
                "object_id": r.object_id,
                "before": r.before,
                "after": r.after,
                "hash": r.hash,
            }
            for r in rows
        ]
    }


@router.get("/audit/verify")
def verify_audit(session: SessionDep, _: Auditor) -> dict[str, Any]:
    """Check the audit chain's MACs, links and latest checkpoint; report the first broken row, if any.

    ``broken.id`` is null when the checkpoint file itself does not hold (its reason names the line).
    """
    checked, broken = verify(session)
    return {
        "checked": checked,
        "ok": broken is None,
        "broken": None if broken is None else {"id": broken.row_id, "reason": broken.reason},
    }
