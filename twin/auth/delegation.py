"""Delegation: who may administer whom and what, written once for the API and the CLI.

A principal grants, creates, disables or mints keys only within its own scope and role:

- a role is granted on a place only by someone holding ``user.admin`` there, and only a role whose
  permissions they hold there themselves; a grant everywhere (no place) only by an administrator
  of everything, so a building administrator never makes a global one;
- an account is managed (granted to, disabled, its keys revoked) only when all its grants lie
  inside one's administered subtrees, or, while it has none, when one created it;
- an API key acts as its account, so it is minted only for oneself or for a machine account
  (no password) one manages;
- a site-wide alarm rule (one that names no single device) is declared or withdrawn only by
  someone who may change the graph everywhere;
- lists of accounts and the audit log are trimmed to what one administers.

The system itself (the CLI, jobs: a session without a principal) passes every check. Outside
one's scope an account is a 404, as any object is; inside it, a step beyond one's role is a 403.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from twin.auth.roles import PERMISSIONS, Permission, Role
from twin.auth.scope import EVERYWHERE, Principal, principal_of, within
from twin.errors import ForbiddenError, NotFoundError
from twin.store.alarms import AlarmRow
from twin.store.models import DeviceRow, PlaceRow
from twin.store.operations import TicketRow
from twin.store.security import AuditRow, GrantRow, UserRow

PLACE_KINDS = ("site", "building", "floor", "space", "unit")
"""Audit object kinds whose id is a place's."""


def roots(principal: Principal, permission: Permission) -> tuple[str, ...]:
    """Return the subtrees where the principal holds a permission (``("",)`` for everywhere)."""
    paths = {g.path for g in principal.grants if permission in PERMISSIONS[g.role]}
    return (EVERYWHERE,) if EVERYWHERE in paths else tuple(sorted(paths))


def is_global(principal: Principal | None, permission: Permission) -> bool:
    """Tell whether the principal (None: the system) holds a permission everywhere."""
    return principal is None or roots(principal, permission) == (EVERYWHERE,)


def require_global(session: Session, permission: Permission, what: str) -> None:
    """Refuse a site-wide step (a new site, a site-wide rule) to anyone who does not hold the permission everywhere."""
    principal = principal_of(session)
    if principal is None or is_global(principal, permission):
        return
    raise ForbiddenError(f"only someone with {permission.value} everywhere may {what}")


def held_at(principal: Principal, path: str) -> frozenset[Permission]:
    """Return the permissions the principal holds at a place (the union of the grants covering it)."""
    held: set[Permission] = set()
    for grant in principal.grants:
        if within(path, grant.path):
            held |= PERMISSIONS[grant.role]
    return frozenset(held)


# -- accounts --------------------------------------------------------------------------------------


def _grant_paths(session: Session, user_ids: Sequence[int]) -> dict[int, list[str]]:
    """Return each user's grant paths ("" for a grant everywhere), in one query."""
    out: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    rows = session.execute(
        select(GrantRow.user_id, PlaceRow.path)
        .outerjoin(PlaceRow, PlaceRow.id == GrantRow.place_id)
        .where(GrantRow.user_id.in_(list(user_ids)))
    )
    for user_id, path in rows:
        out[user_id].append(EVERYWHERE if path is None else str(path))
    return out


def created_by(session: Session, username: str) -> set[int]:
    """Return the ids of the accounts an actor created (read from the audit log, which records every creation)."""
    ids = session.scalars(
        select(AuditRow.object_id).where(
            AuditRow.object_kind == "user", AuditRow.action == "user.add", AuditRow.actor == username
        )
    )
    return {int(i) for i in ids if i is not None and i.isdigit()}


def _inside(principal: Principal, paths: Iterable[str]) -> bool:
    """Tell whether every grant path lies where the principal administers accounts."""
    return all(principal.allows(Permission.USER_ADMIN, p) for p in paths)


def _touches(principal: Principal, paths: Iterable[str]) -> bool:
    """Tell whether some grant path lies where the principal administers accounts."""
    return any(principal.allows(Permission.USER_ADMIN, p) for p in paths)


def visible_users(session: Session, principal: Principal | None, user_ids: Sequence[int]) -> set[int]:
    """Return which of these accounts the principal may see: oneself, those with a grant it administers, its own."""
    if is_global(principal, Permission.USER_ADMIN):
        return set(user_ids)
    assert principal is not None
    paths = _grant_paths(session, user_ids)
    mine = created_by(session, principal.username)
    return {uid for uid in user_ids if uid == principal.user_id or uid in mine or _touches(principal, paths[uid])}


def check_manage(session: Session, user: UserRow, what: str) -> None:
    """Refuse to change an account the session's principal does not manage: 404 if unseen, 403 if seen."""
    principal = principal_of(session)
    if is_global(principal, Permission.USER_ADMIN):
        return
    assert principal is not None
    if not principal.has(Permission.USER_ADMIN):
        raise ForbiddenError(f"your roles do not allow {Permission.USER_ADMIN.value}")
    paths = _grant_paths(session, [user.id])[user.id]
    mine = user.id in created_by(session, principal.username)
    if (paths and _inside(principal, paths)) or (not paths and mine):
        return
    if user.id == principal.user_id or mine or _touches(principal, paths):
        raise ForbiddenError(f"user {user.username!r} holds roles outside what you administer: you may not {what}")
    raise NotFoundError(f"user {user.username!r} not found")


def check_grant(
    session: Session, role: Role, place_path: str | None, device_kinds: Sequence[str] | None = None
) -> None:
    """Refuse a grant beyond the principal's own scope or role (everywhere: only from a global administrator)."""
    principal = principal_of(session)
    if principal is None:
        return
    path = EVERYWHERE if place_path is None else place_path
    if not principal.allows(Permission.USER_ADMIN, path):
        if path == EVERYWHERE:
            raise ForbiddenError("only an administrator of everything grants a role everywhere (give place_id)")
        if not principal.sees_place(path):
            raise NotFoundError("place not found")
        raise ForbiddenError(f"your roles do not allow {Permission.USER_ADMIN.value} on that place")
    beyond = PERMISSIONS[role] - held_at(principal, path)
    if beyond:
        raise ForbiddenError(f"you may not grant {role.value}: it carries {', '.join(sorted(beyond))}, which you lack")


def check_api_key(session: Session, user: UserRow) -> None:
    """Refuse a key for an account other than oneself, unless it is a machine account one manages."""
    principal = principal_of(session)
    if principal is None or user.id == principal.user_id:
        return
    check_manage(session, user, "mint its keys")
    if user.password_hash is not None:
        raise ForbiddenError(
            f"an API key acts as its account: mint one for yourself or for a machine account, not {user.username!r}"
        )


# -- alarm rules -----------------------------------------------------------------------------------


def rule_device(session: Session, spec: dict[str, Any]) -> tuple[str, str] | None:
    """Return the path and kind of the one device a rule names by tag, or None for a site-wide rule."""
    tag = spec.get("device") if spec.get("type", "device") == "device" else None
    if not isinstance(tag, str) or not tag:
        return None
    row = session.execute(
        select(func.ltree2text(DeviceRow.path), DeviceRow.kind).where(DeviceRow.tag == tag).limit(1)
    ).one_or_none()
    return None if row is None else (str(row[0]), str(row[1]))


def check_rule(session: Session, spec: dict[str, Any], what: str) -> None:
    """Refuse a change to a site-wide rule to all but global graph writers; a device's rule to those writing there.

    A rule naming a device the principal does not see is not confirmed (404), as the device is not.
    """
    principal = principal_of(session)
    if principal is None:
        return
    device = rule_device(session, spec)
    if device is None:
        require_global(session, Permission.GRAPH_WRITE, f"{what} a site-wide alarm rule")
        return
    path, kind = device
    if principal.allows(Permission.GRAPH_WRITE, path):
        return
    if not principal.has(Permission.GRAPH_WRITE) or principal.sees_device(path, kind):
        raise ForbiddenError(f"your roles do not allow {Permission.GRAPH_WRITE.value} on the device this rule names")
    raise NotFoundError(f"alarm rule naming device {spec.get('device')!r} not found")


def shows_rule(session: Session, spec: dict[str, Any]) -> bool:
    """Tell whether a rule is listed to the session's principal: not if it names a device or kind it does not see."""
    principal = principal_of(session)
    if principal is None:
        return True
    device = rule_device(session, spec)
    if device is not None:
        return principal.sees_device(*device)
    kind = spec.get("kind")
    if principal.kind_limited and isinstance(kind, str) and kind != "*":
        return any(g.device_kinds is None or kind in g.device_kinds for g in principal.grants)
    return True


# -- the audit log ---------------------------------------------------------------------------------


def audit_condition(session: Session) -> ColumnElement[bool]:
    """Return an SQL condition on audit rows: what the principal may read of the log.

    A global auditor reads everything; anyone else the changes to objects in their subtrees
    (places, devices, tickets, alarms) and everything done by the accounts they administer.
    """
    principal = principal_of(session)
    if is_global(principal, Permission.AUDIT_READ):
        return true()
    assert principal is not None
    where = roots(principal, Permission.AUDIT_READ)
    if not where:
        return false()

    def under(path_column: Any) -> ColumnElement[bool]:
        return or_(*[path_column.op("<@")(func.text2ltree(root)) for root in where])

    def ids(column: Any, path_column: Any) -> Any:
        return select(cast(column, String)).where(under(path_column))

    users = list(session.scalars(select(UserRow.id)))
    paths = _grant_paths(session, users)
    inside = [uid for uid in users if paths[uid] and all(any(within(p, r) for r in where) for p in paths[uid])]
    names = select(UserRow.username).where(UserRow.id.in_(inside)) if inside else None
    conditions: list[ColumnElement[bool]] = [
        AuditRow.object_kind.in_(PLACE_KINDS) & AuditRow.object_id.in_(ids(PlaceRow.id, PlaceRow.path)),
        (AuditRow.object_kind == "device") & AuditRow.object_id.in_(ids(DeviceRow.id, DeviceRow.path)),
        (AuditRow.object_kind == "ticket") & AuditRow.object_id.in_(ids(TicketRow.id, TicketRow.path)),
        (AuditRow.object_kind == "alarm") & AuditRow.object_id.in_(ids(AlarmRow.id, AlarmRow.path)),
    ]
    if names is not None:
        conditions.append(AuditRow.actor.in_(names))
        conditions.append((AuditRow.object_kind == "user") & AuditRow.object_id.in_([str(u) for u in inside]))
    return or_(*conditions)


def shows_grant(principal: Principal, path: str | None) -> bool:
    """Tell whether a grant (on ``path``; None: everywhere) is listed to the principal: those it administers."""
    return principal.allows(Permission.USER_ADMIN, EVERYWHERE if path is None else str(path))
