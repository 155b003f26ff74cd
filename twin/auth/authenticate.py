"""Authentication: a bearer token or an API key becomes a Principal, as the store says it is now.

A revoked grant or a disabled account stops working at once, whatever tokens are still around —
also when the change was made by another process (the CLI, another instance). A password login's
principal is therefore either read from the store (one indexed query of plain columns: the
account and its grants together) or taken from the server's ``PrincipalCache``, which forgets
everything the moment the store notifies a change, and keeps nothing while it cannot hear one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from twin.auth import sessions, tokens
from twin.auth.principal_cache import PrincipalCache
from twin.auth.roles import Role
from twin.auth.scope import EVERYWHERE, Grant, Principal
from twin.auth.users import check_api_key
from twin.errors import TwinError
from twin.store.base import utcnow
from twin.store.models import PlaceRow
from twin.store.security import AuthSessionRow, EmergencyLinkRow, GrantRow, UserRow


class AuthenticationError(TwinError):
    """No credentials, or credentials that do not hold (the API answers 401)."""


def _grants(rows: Sequence[Any]) -> tuple[Grant, ...]:
    """Turn (role, place_id, path, device_kinds) rows into grants; no place means everywhere."""
    return tuple(
        Grant(
            Role(row.role),
            row.path if row.place_id is not None else EVERYWHERE,
            frozenset(row.device_kinds or ()) or None,
        )
        for row in rows
        if row.role is not None and (row.place_id is None or row.path is not None)
    )


def load_principal(session: Session, user: UserRow, via: str) -> Principal:
    """Build the principal of a loaded user from their grants (one query, paths included)."""
    rows = session.execute(
        select(GrantRow.role, GrantRow.place_id, PlaceRow.path, GrantRow.device_kinds)
        .outerjoin(PlaceRow, PlaceRow.id == GrantRow.place_id)
        .where(GrantRow.user_id == user.id)
    ).all()
    return Principal(
        username=user.username,
        grants=_grants(rows),
        user_id=user.id,
        via=via,  # type: ignore[arg-type]
        wall_display=user.wall_display,
    )


_ENDED_LATELY = (
    select(func.array_agg(AuthSessionRow.id))
    .where(
        AuthSessionRow.user_id == UserRow.id,
        AuthSessionRow.revoked_at > func.now() - timedelta(seconds=tokens.ACCESS_SECONDS),
    )
    .scalar_subquery()
)
"""Sessions ended within an access token's life: older ones have no unexpired access token left."""

_ACCOUNT = (
    select(
        UserRow.username,
        UserRow.disabled,
        UserRow.wall_display,
        UserRow.token_version,
        _ENDED_LATELY.label("ended"),
        GrantRow.role,
        GrantRow.place_id,
        PlaceRow.path,
        GrantRow.device_kinds,
    )
    .select_from(UserRow)
    .outerjoin(GrantRow, GrantRow.user_id == UserRow.id)
    .outerjoin(PlaceRow, PlaceRow.id == GrantRow.place_id)
    .where(UserRow.id == bindparam("user_id"))
)
"""The account, its grants and its sessions ended lately: built once, as every authenticated request runs it."""


def principal_of_user(session: Session, user_id: int, via: str) -> Principal:
    """Build a user's principal by id: the account and its grants in one query of plain columns.

    A disabled or removed account raises AuthenticationError. Run on the session's connection,
    not through the ORM: it is a Core select of plain columns, and the ORM's statement handling
    would cost as much as the query on every authenticated request.
    """
    rows = session.connection().execute(_ACCOUNT, {"user_id": user_id}).all()
    if not rows or rows[0].disabled:
        raise AuthenticationError("account disabled or removed")
    return Principal(
        username=rows[0].username,
        grants=_grants(rows),
        user_id=user_id,
        via=via,  # type: ignore[arg-type]
        wall_display=rows[0].wall_display,
        token_version=rows[0].token_version,
        ended_sessions=frozenset(rows[0].ended or ()),
    )


def known_principal(
    cache: PrincipalCache, signing_key: str, authorization: str | None, api_key: str | None
) -> Principal | None:
    """Return the kept principal of a valid access token, None when the store must be asked.

    Does no I/O, so the server runs it on its event loop: a hit needs no database and no thread.
    Anything else (an API key, an emergency link, a token that does not verify, or one of an ended
    session or an earlier token version) goes the long way, which also says what is wrong with it.
    """
    if (
        api_key  # wins over a token sent beside it, as in authenticate
        or not authorization
        or not authorization.lower().startswith("bearer ")
        or authorization.lower().startswith("bearer twk_")
    ):
        return None
    try:
        claims = cache.tokens.verify(signing_key, authorization[7:].strip())
    except tokens.TokenError:
        return None
    principal = cache.get(int(claims.subject))
    if principal is None or not sessions.holds(claims, principal.token_version, principal.ended_sessions):
        return None
    return principal


def authenticate(
    session: Session,
    signing_key: str,
    authorization: str | None,
    api_key: str | None,
    cache: PrincipalCache | None = None,
) -> Principal:
    """Return who presents these credentials, or raise AuthenticationError saying what is wrong.

    With a cache, a password login's principal is taken from it or read and kept there.
    """
    if authorization and authorization.lower().startswith("bearer twk_"):
        api_key = authorization[7:].strip()
    if api_key:
        key_row = check_api_key(session, api_key)
        if key_row is None:
            raise AuthenticationError("unknown or revoked API key")
        try:
            return principal_of_user(session, key_row.user_id, "apikey")
        except AuthenticationError as exc:
            raise AuthenticationError("the API key's account is disabled") from exc
    if authorization and authorization.lower().startswith("bearer "):
        return _from_token(session, signing_key, authorization[7:].strip(), cache)
    raise AuthenticationError("authentication required")


def _from_token(session: Session, key: str, token: str, cache: PrincipalCache | None) -> Principal:
    try:
        claims = tokens.verify(key, token, "access") if cache is None else cache.tokens.verify(key, token)
    except tokens.TokenError as access_error:
        try:
            claims = tokens.verify(key, token, "emergency")
        except tokens.TokenError:
            raise AuthenticationError(access_error.message) from access_error
        return _emergency_principal(session, claims)
    user_id = int(claims.subject)
    if cache is None:
        principal = principal_of_user(session, user_id, "password")
    else:
        principal = cache.get_or_read(user_id, lambda: principal_of_user(session, user_id, "password"))
    if not sessions.holds(claims, principal.token_version, principal.ended_sessions):
        raise AuthenticationError("session ended (logged out, password or grants changed)", "log in again")
    return principal


def _emergency_principal(session: Session, claims: tokens.Claims) -> Principal:
    link = session.get(EmergencyLinkRow, int(claims.subject.removeprefix("emergency:")))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise AuthenticationError("emergency link expired or revoked")
    site = session.get(PlaceRow, link.site_id)
    if site is None:
        raise AuthenticationError("emergency link names no site")
    return Principal(
        username=f"emergency-link-{link.id}",
        grants=(Grant(Role.RESPONDER, site.path),),
        via="emergency",
        wall_display=True,
        extra={"link_id": link.id},
    )
