"""Which events of a scope a principal may receive: the roots to index and the kinds allowed.

A subscription is checked once, when it is made (and again when the principal's grants change),
so fan-out stays a dictionary walk: a scope the principal sees only partly — a building above the
one floor an inspector is granted — is indexed under the granted places inside it, never under
the building itself. Bills go only to the roles that see bills there; import progress only to
those who may run imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from realtime.hub.protocol import ProtocolError, Subscribe
from twin.auth.roles import Permission
from twin.auth.scope import EVERYWHERE, Principal, within
from twin.graph.paths import scopes
from twin.operations.billing_status import sees_bills
from twin.store.ltree import ids_of
from twin.store.models import DeviceRow, PlaceRow


@dataclass(frozen=True, slots=True)
class Target:
    """A checked subscription: where it points, what to index it under, what it may receive."""

    scope: str
    site_id: int
    path: str
    place_id: int | None
    device_id: int | None
    roots: tuple[str, ...]
    kinds: frozenset[str]
    denied: tuple[str, ...]
    device_kinds: frozenset[str] | None
    """For a vendor: the device kinds its grants name; None means every kind."""


def resolve(session: Session, principal: Principal, request: Subscribe) -> Target:
    """Check a subscription against the store and the principal; raise ProtocolError (404/403) if refused."""
    missing = ProtocolError(f"{request.scope} not found", 404, request.sub)
    device_id: int | None = None
    device_kind: str | None = None
    if request.level == "device":
        row = session.execute(
            select(DeviceRow.path, DeviceRow.kind, DeviceRow.site_id).where(
                DeviceRow.id == request.id, DeviceRow.retired_at.is_(None)
            )
        ).one_or_none()
        if row is None or not principal.sees_device(row.path, row.kind):
            raise missing
        path, device_id, device_kind, site_id = row.path, request.id, row.kind, row.site_id
    else:
        place = session.execute(
            select(PlaceRow.path, PlaceRow.kind).where(PlaceRow.id == request.id, PlaceRow.retired_at.is_(None))
        ).one_or_none()
        if place is None or place.kind != request.level or not principal.sees_place(place.path):
            raise missing
        path, site_id = place.path, ids_of(place.path)[0]
    covering = [g for g in principal.grants if within(path, g.path)]
    if covering:
        roots: tuple[str, ...] = (request.scope,)
        kinds_of = [g.device_kinds for g in covering]
    else:
        inner = [g for g in principal.grants if g.path != EVERYWHERE and within(g.path, path)]
        roots = tuple(sorted({scopes(g.path)[-1] for g in inner}))
        kinds_of = [g.device_kinds for g in inner]
    device_kinds = None if any(k is None for k in kinds_of) else frozenset().union(*(k or () for k in kinds_of))
    if device_kind is not None and device_kinds is not None and device_kind not in device_kinds:
        raise missing
    allowed = {k for k in request.kinds if _may_receive(principal, k, path)}
    if not allowed:
        raise ProtocolError(f"your roles receive none of {list(request.kinds)} on {request.scope}", 403, request.sub)
    return Target(
        scope=request.scope,
        site_id=site_id,
        path=path,
        place_id=None if device_id is not None else request.id,
        device_id=device_id,
        roots=roots,
        kinds=frozenset(allowed),
        denied=tuple(k for k in request.kinds if k not in allowed),
        device_kinds=device_kinds,
    )


def _may_receive(principal: Principal, kind: str, path: str) -> bool:
    if kind == "billing":
        return sees_bills(principal, path)
    if kind == "import":
        return principal.allows(Permission.IMPORT_RUN, path)
    return True
