"""Failed-login throttles, for administrators: see who is being slowed down, and clear a throttle."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from twin.api.deps import SessionDep, require
from twin.auth import delegation, names, throttle
from twin.auth.roles import Permission
from twin.auth.scope import Principal

router = APIRouter(prefix="/api/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Permission.USER_ADMIN))]


class ThrottleOut(BaseModel):
    """One (account, address) pair's failures, or an address's across accounts (no username)."""

    username: str | None
    address: str
    failures: int
    last_failure_at: datetime
    blocked_until: datetime | None


class ThrottleList(BaseModel):
    """Every throttle with failures, the latest first."""

    items: list[ThrottleOut]


class Cleared(BaseModel):
    """How many throttles were cleared."""

    cleared: int


@router.get("/throttles")
def list_throttles(session: SessionDep, _: Admin) -> ThrottleList:
    """List failed-login throttles: which accounts fail from which addresses, and until when they wait.

    Throttles name any account and address, so only an administrator of everything sees or clears them.
    """
    delegation.require_global(session, Permission.USER_ADMIN, "login throttles")
    return ThrottleList(items=[ThrottleOut(**vars(t)) for t in throttle.listing(session)])


@router.delete("/throttles")
def clear_throttles(
    session: SessionDep,
    _: Admin,
    username: Annotated[str | None, Query(max_length=64)] = None,
    address: Annotated[str | None, Query(max_length=64)] = None,
) -> Cleared:
    """Clear an account's throttles (every address), an address's (every account), or one pair's (both given)."""
    delegation.require_global(session, Permission.USER_ADMIN, "login throttles")
    name = None if username is None else names.normalise(username)
    return Cleared(cleared=throttle.clear(session, name, address))
