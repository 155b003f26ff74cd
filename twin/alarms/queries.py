"""Read-only questions about alarms, always inside the caller's scope.

A list is one indexed query on the alarm's path (``path <@ subtree``) with the scope's own ltree
condition beside it; the overview's counts group by the building and floor prefixes of the paths
in SQL, never in Python. Storm children are folded under their root by default: the operator
sees one line for a gateway, with the number of devices behind it that are still out (its active
children). Counts count active roots only, as the live hub holds them, so the wall, the 3D tints
and these numbers agree: a storm is one alarm, and a cleared one is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from twin.alarms.severity import ACTIVE_STATES, OPEN_STATES, AlarmSeverity, AlarmState
from twin.auth.scope import principal_of, subtree_condition
from twin.errors import NotFoundError
from twin.store.alarms import AlarmRow
from twin.store.models import DeviceRow, PlaceRow


def get_alarm(session: Session, alarm_id: int, *, lock: bool = False) -> AlarmRow:
    """Load an alarm the session may see, or say there is none (404 naming the id).

    ``lock`` for a change: the row is read ``FOR UPDATE``, before anything is audited (the lock
    order in ``twin.audit``), so racing changes to one alarm run one after the other, each
    seeing the state the other left.
    """
    row = session.get(AlarmRow, alarm_id, with_for_update=True if lock else None, populate_existing=lock)
    principal = principal_of(session)
    if row is not None and principal is not None:
        kind = ""
        if row.device_id is not None:
            kind = session.scalar(select(DeviceRow.kind).where(DeviceRow.id == row.device_id)) or ""
        if not principal.sees_device(row.path, kind):
            row = None
    if row is None:
        raise NotFoundError(f"alarm {alarm_id} not found")
    return row


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """What a list of alarms is narrowed to; every field is optional."""

    under: int | None = None
    """A place id: alarms in its subtree."""
    device_id: int | None = None
    severities: tuple[AlarmSeverity, ...] = ()
    states: tuple[AlarmState, ...] = OPEN_STATES
    since: datetime | None = None
    until: datetime | None = None
    roots_only: bool = True
    parent_id: int | None = None


def _filtered(session: Session, f: AlarmFilter) -> Select[Any]:
    stmt = select(AlarmRow).where(subtree_condition(session, AlarmRow.path))
    principal = principal_of(session)
    if principal is not None and principal.kind_limited:
        # A vendor sees the alarms of the devices of its kinds only (a place's alarm has no kind: none).
        kind = select(DeviceRow.kind).where(DeviceRow.id == AlarmRow.device_id).correlate(AlarmRow).scalar_subquery()
        stmt = stmt.where(principal.device_filter(AlarmRow.path, kind))
    if f.under is not None:
        place = session.get(PlaceRow, f.under)
        if place is None or (principal is not None and not principal.sees_place(place.path)):
            raise NotFoundError(f"place {f.under} not found")
        stmt = stmt.where(AlarmRow.path.op("<@")(func.text2ltree(place.path)))
    if f.device_id is not None:
        stmt = stmt.where(AlarmRow.device_id == f.device_id)
    if f.severities:
        stmt = stmt.where(AlarmRow.severity.in_([s.value for s in f.severities]))
    if f.states:
        stmt = stmt.where(AlarmRow.state.in_([s.value for s in f.states]))
    if f.since is not None:
        stmt = stmt.where(AlarmRow.last_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AlarmRow.first_at < f.until)
    if f.parent_id is not None:
        stmt = stmt.where(AlarmRow.parent_id == f.parent_id)
    elif f.roots_only:
        stmt = stmt.where(AlarmRow.parent_id.is_(None))
    return stmt


def _active_children() -> Any:
    """The number of active alarms grouped under the row of ``AlarmRow`` (a correlated subquery)."""
    child = aliased(AlarmRow)
    return (
        select(func.count())
        .where(child.parent_id == AlarmRow.id, child.state.in_([s.value for s in ACTIVE_STATES]))
        .correlate(AlarmRow)
        .scalar_subquery()
    )


def list_alarms(session: Session, f: AlarmFilter, limit: int = 100, offset: int = 0) -> list[tuple[AlarmRow, int]]:
    """Return alarms, the most urgent and newest first, each with how many active children it groups."""
    rank = case({"critical": 0, "major": 1, "minor": 2, "warning": 3}, value=AlarmRow.severity, else_=4)
    stmt = (
        _filtered(session, f)
        .add_columns(_active_children().label("children"))
        .order_by(rank, AlarmRow.last_at.desc(), AlarmRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(row, int(n)) for row, n in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class PlaceCount:
    """Active root alarms in one building or floor, by severity, and the alarms grouped under them."""

    place_id: int
    level: str
    counts: dict[str, int]
    grouped: int


def alarm_counts(session: Session, under: int | None = None) -> list[PlaceCount]:
    """Count active root alarms per building and per floor (the overview's and the wall's), by severity."""
    out: dict[tuple[str, int], dict[str, int]] = {}
    grouped: dict[tuple[str, int], int] = {}
    for level, depth in (("building", 2), ("floor", 3)):
        prefix = func.subpath(AlarmRow.path, 0, depth)
        f = AlarmFilter(under=under, states=ACTIVE_STATES)
        stmt = (
            _filtered(session, f)
            .where(func.nlevel(AlarmRow.path) >= depth)
            .with_only_columns(func.ltree2text(prefix), AlarmRow.severity, func.count(), func.sum(_active_children()))
            .group_by(prefix, AlarmRow.severity)
        )
        for path, severity, n, children in session.execute(stmt):
            key = (level, int(str(path).rsplit(".", 1)[-1]))
            out.setdefault(key, {})[severity] = int(n)
            grouped[key] = grouped.get(key, 0) + int(children or 0)
    return [PlaceCount(pid, level, counts, grouped[level, pid]) for (level, pid), counts in sorted(out.items())]
