"""Use cases for accounts: add, disable, change a password, grant a role on a place, API keys.

Names are normalised and checked for look-alikes by ``twin.auth.names``; a password change or a
disable ends every session of the account (``twin.auth.sessions``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.auth import delegation, names, sessions
from twin.auth.passwords import hash_password
from twin.auth.roles import Role
from twin.auth.scope import principal_of
from twin.errors import NotFoundError, ValidationError
from twin.store.base import utcnow
from twin.store.models import PlaceRow
from twin.store.security import ApiKeyRow, GrantRow, UserRow

KEY_PREFIX = "twk"
_NEW_NAMES_LOCK = 0x7477696E_6E616D65
"""Advisory lock taken while a new name is compared with the existing ones, so two look-alikes cannot race in."""


def get_user(session: Session, username: str) -> UserRow:
    """Load a user by name (however it is cased or composed), or say there is none."""
    row = session.scalar(select(UserRow).where(UserRow.username == names.normalise(username)))
    if row is None:
        raise NotFoundError(f"user {username!r} not found")
    return row


def add_user(
    session: Session, username: str, password: str | None, display_name: str | None = None, wall_display: bool = False
) -> UserRow:
    """Create an account; a machine account may have no password and log in with API keys only.

    The name is stored normalised, and refused when it mixes scripts or looks like an existing one.
    """
    username = names.checked(username)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _NEW_NAMES_LOCK})
    existing = list(session.scalars(select(UserRow.username)))
    if username in existing:
        raise ValidationError("username", f"{username!r} already exists")
    alike = names.look_alike(username, existing)
    if alike is not None:
        raise ValidationError("username", f"{username!r} looks like the existing account {alike!r}")
    row = UserRow(
        username=username,
        display_name=display_name,
        wall_display=wall_display,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        action="user.add",
        kind="user",
        object_id=row.id,
        after={"username": username, "wall_display": wall_display},
    )
    return row


def grant(
    session: Session, username: str, role: Role, place_id: int | None, device_kinds: Sequence[str] | None = None
) -> GrantRow:
    """Give a user a role on a place's subtree (everywhere when no place); a vendor's names device kinds."""
    user = get_user(session, username)
    place = None if place_id is None else session.get(PlaceRow, place_id)
    if place_id is not None and place is None:
        raise NotFoundError(f"place {place_id} not found")
    delegation.check_manage(session, user, "grant it roles")
    try:
        delegation.check_grant(session, role, None if place is None else place.path, device_kinds)
    except NotFoundError:
        raise NotFoundError(f"place {place_id} not found") from None
    if role is Role.VENDOR and not device_kinds:
        raise ValidationError("device_kinds", "a vendor's grant names the device kinds it maintains")
    row = GrantRow(
        user_id=user.id, role=role.value, place_id=place_id, device_kinds=list(device_kinds) if device_kinds else None
    )
    session.add(row)
    session.flush()
    audit(
        session,
        action="grant.add",
        kind="user",
        object_id=user.id,
        after={"role": role.value, "place_id": place_id, "device_kinds": row.device_kinds},
    )
    return row


def disable_user(session: Session, username: str) -> UserRow:
    """Disable an account: its sessions end, its tokens and keys stop working at the next request."""
    user = get_user(session, username)
    delegation.check_manage(session, user, "disable it")
    user.disabled = True
    sessions.end_all(session, user, "disabled")
    audit(
        session,
        action="user.disable",
        kind="user",
        object_id=user.id,
        before={"disabled": False},
        after={"disabled": True},
    )
    return user


def set_password(session: Session, username: str, password: str) -> None:
    """Change a user's password; every session of the account ends (who knew the old one is logged out)."""
    user = get_user(session, username)
    principal = principal_of(session)
    if principal is None or principal.user_id != user.id:
        delegation.check_manage(session, user, "change its password")
    user.password_hash = hash_password(password)
    sessions.end_all(session, user, "password")
    audit(session, action="user.passwd", kind="user", object_id=user.id)


def list_users(session: Session) -> list[tuple[UserRow, list[GrantRow]]]:
    """Return the users the session's principal may see with their grants (every one for the system)."""
    users = list(session.scalars(select(UserRow).order_by(UserRow.username)))
    principal = principal_of(session)
    shown = delegation.visible_users(session, principal, [u.id for u in users])
    grants: dict[int, list[GrantRow]] = {}
    for row, path in session.execute(
        select(GrantRow, PlaceRow.path).outerjoin(PlaceRow, PlaceRow.id == GrantRow.place_id).order_by(GrantRow.id)
    ):
        if principal is None or principal.user_id == row.user_id or delegation.shows_grant(principal, path):
            grants.setdefault(row.user_id, []).append(row)
    return [(user, grants.get(user.id, [])) for user in users if user.id in shown]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, username: str, name: str) -> tuple[ApiKeyRow, str]:
    """Create a key acting as a user; the secret is shown once and only its hash is kept."""
    user = get_user(session, username)
    delegation.check_api_key(session, user)
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    row = ApiKeyRow(user_id=user.id, name=name, prefix=prefix, secret_hash=_digest(secret))
    session.add(row)
    session.flush()
    audit(session, action="apikey.create", kind="api_key", object_id=row.id, after={"name": name, "user": username})
    return row, f"{KEY_PREFIX}_{prefix}_{secret}"


def revoke_api_key(session: Session, prefix: str) -> ApiKeyRow:
    """Revoke a key by its public prefix."""
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
    if row is None:
        raise NotFoundError(f"API key {prefix!r} not found")
    owner = session.get(UserRow, row.user_id)
    principal = principal_of(session)
    if owner is not None and principal is not None and principal.user_id != owner.id:
        try:
            delegation.check_manage(session, owner, "revoke its keys")
        except NotFoundError:
            raise NotFoundError(f"API key {prefix!r} not found") from None
    row.revoked_at = utcnow()
    audit(session, action="apikey.revoke", kind="api_key", object_id=row.id)
    return row


def check_api_key(session: Session, key: str) -> ApiKeyRow | None:
    """Return the live key a presented secret matches, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == parts[1]))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        return None
    row.last_used_at = utcnow()
    return row
