"""What a principal may see and do, and where: grants are roles on subtrees of the graph.

A place is visible when it lies in a granted subtree or above one (so that paths and navigation
show where one's buildings are); a device only when it lies in a granted subtree, and for a
vendor only when its kind is one the grant names. Checks run in SQL for lists (an ltree filter)
and in Python for single objects; the principal travels on the request's session, so every use
case that loads a place or a device applies them without being asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, func, or_, true
from sqlalchemy.orm import Session

from twin.auth.roles import PERMISSIONS, Permission, Role


@dataclass(frozen=True, slots=True)
class Grant:
    """A role on the subtree under ``path``; ``device_kinds`` limits a vendor to some kinds."""

    role: Role
    path: str
    device_kinds: frozenset[str] | None = None


EVERYWHERE = ""
"""The path of a grant on the whole graph."""


def within(path: str, root: str) -> bool:
    """Tell whether ``path`` lies in the subtree under ``root`` (the root itself included)."""
    return root == EVERYWHERE or path == root or path.startswith(root + ".")


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (by password or API key) or an emergency link, with its grants."""

    username: str
    grants: tuple[Grant, ...]
    user_id: int | None = None
    via: Literal["password", "apikey", "emergency"] = "password"
    wall_display: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    token_version: int = 0
    """The account's token version when read: an access token signed with another is refused."""
    ended_sessions: frozenset[int] = frozenset()
    """The account's sessions ended lately, whose access tokens may still be unexpired."""

    @property
    def roles(self) -> set[Role]:
        """Return the roles held anywhere."""
        return {grant.role for grant in self.grants}

    @property
    def kind_limited(self) -> bool:
        """Tell whether some grant limits the device kinds seen (a vendor's): device-bound rows need a kind check."""
        return any(g.device_kinds is not None for g in self.grants)

    def has(self, permission: Permission) -> bool:
        """Tell whether some grant carries the permission (somewhere)."""
        return any(permission in PERMISSIONS[grant.role] for grant in self.grants)

    def allows(self, permission: Permission, path: str) -> bool:
        """Tell whether a grant covering ``path`` carries the permission there."""
        return any(permission in PERMISSIONS[g.role] and within(path, g.path) for g in self.grants)

    def sees_place(self, path: str) -> bool:
        """Tell whether a place is in a granted subtree or above one."""
        return any(within(path, g.path) or within(g.path, path) for g in self.grants)

    def sees_device(self, path: str, kind: str) -> bool:
        """Tell whether a device is in a granted subtree (and of a granted kind, for vendors)."""
        return any(within(path, g.path) and (g.device_kinds is None or kind in g.device_kinds) for g in self.grants)

    def place_filter(self, path_column: Any) -> ColumnElement[bool]:
        """Return an SQL condition on an ltree path column: places this principal may see."""
        if not self.grants:
            return false()
        if any(g.path == EVERYWHERE for g in self.grants):
            return true()
        conditions = []
        for grant in self.grants:
            root = func.text2ltree(grant.path)
            conditions.append(path_column.op("<@")(root))
            conditions.append(root.op("<@")(path_column))
        return or_(*conditions)

    def device_filter(self, path_column: Any, kind_column: Any) -> ColumnElement[bool]:
        """Return an SQL condition: devices this principal may see."""
        if not self.grants:
            return false()
        conditions = []
        for grant in self.grants:
            if grant.path == EVERYWHERE:
                inside = true()
            else:
                inside = path_column.op("<@")(func.text2ltree(grant.path))
            if grant.device_kinds is not None:
                inside = inside & kind_column.in_(sorted(grant.device_kinds))
            conditions.append(inside)
        return or_(*conditions)

    def subtree_filter(self, path_column: Any) -> ColumnElement[bool]:
        """Return an SQL condition: rows hanging in a granted subtree (alarms, tickets, readings)."""
        if not self.grants:
            return false()
        if any(g.path == EVERYWHERE for g in self.grants):
            return true()
        return or_(*[path_column.op("<@")(func.text2ltree(g.path)) for g in self.grants])


def principal_of(session: Session) -> Principal | None:
    """Return the principal a request's session acts for; None for the system itself (CLI, jobs)."""
    principal: Principal | None = session.info.get("principal")
    return principal


def place_condition(session: Session, path_column: Any) -> ColumnElement[bool]:
    """Return the visibility condition for places on this session (always true for the system)."""
    principal = principal_of(session)
    return true() if principal is None else principal.place_filter(path_column)


def device_condition(session: Session, path_column: Any, kind_column: Any) -> ColumnElement[bool]:
    """Return the visibility condition for devices on this session (always true for the system)."""
    principal = principal_of(session)
    return true() if principal is None else principal.device_filter(path_column, kind_column)


def subtree_condition(session: Session, path_column: Any) -> ColumnElement[bool]:
    """Return the visibility condition for rows bound to a place's subtree (always true for the system)."""
    principal = principal_of(session)
    return true() if principal is None else principal.subtree_filter(path_column)


def check_allowed(session: Session, permission: Permission, path: str, what: str) -> None:
    """Refuse a change the session's principal may not make at ``path``: 404 if unseen, 403 if seen.

    A principal whose roles carry the permission nowhere is told so (403) wherever the object is:
    that says nothing of the object, only of the caller's roles.
    """
    from twin.errors import ForbiddenError, NotFoundError

    principal = principal_of(session)
    if principal is None or principal.allows(permission, path):
        return
    if not principal.has(permission) or principal.sees_place(path):
        raise ForbiddenError(f"your roles do not allow {permission.value} on {what}")
    raise NotFoundError(f"{what} not found")
