"""The audit log: every change, who made it, when, from where, before and after — hash-chained.

Each row carries the hash of the row before it, so a row edited or deleted behind the
application's back breaks the chain at that row: ``twin audit verify`` finds it. Appends are
serialised by a transaction-scoped advisory lock, so two concurrent changes never chain to the
same predecessor; the lock is held only until the change commits.

The lock order: a transaction first locks the domain rows it changes (a use case loads them
``FOR UPDATE``: ``get_alarm(…, lock=True)``, ``get_ticket``, ``get_charge``), and the audit chain's
lock is the last it takes. Taken the other way round — an alarm's ticket audited, and so the
chain locked, before the alarm row is written, while an acknowledgement holds that row and waits
for the chain — two transactions wait for each other and PostgreSQL fails one of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import event, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, SessionTransaction

from twin.store.base import draw_ids, utcnow
from twin.store.security import AuditRow

GENESIS = "0" * 64
LOCK_KEY = 7_310_424_101
"""The advisory lock that orders appends (any constant unique to this table)."""
_HEAD = "audit_chain_head"
"""Where a session keeps the hash its transaction last appended, while it holds the lock."""


def snapshot(row: object) -> dict[str, Any]:
    """Return a row's column values as plain data for before/after (geometry as WKT)."""
    out: dict[str, Any] = {}
    for attr in sa_inspect(row).mapper.column_attrs:
        value = getattr(row, attr.key)
        if isinstance(value, WKBElement):
            value = to_shape(value).wkt
        out[attr.key] = value
    return _jsonable(out)  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(_canonical(value))


def _canonical(value: Any) -> str:
    # The standard library's encoder, not orjson: it takes integers of any size, which JSONB keeps.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    address: str | None,
    action: str,
    kind: str,
    object_id: str | None,
    before: Any,
    after: Any,
) -> str:
    """Hash a row's content together with its predecessor's hash."""
    body = _canonical([prev_hash, at.isoformat(), actor, address, action, kind, object_id, before, after])
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Change:
    """One change to log: what was done to which object, and the object before and after."""

    action: str
    kind: str
    object_id: object = None
    before: Any = None
    after: Any = None


def audit(
    session: Session,
    *,
    action: str,
    kind: str,
    object_id: object = None,
    before: Any = None,
    after: Any = None,
    actor: str | None = None,
    address: str | None = None,
) -> None:
    """Append a change to the log, in the same transaction as the change itself."""
    audit_all(session, [Change(action, kind, object_id, before, after)], actor=actor, address=address)


def audit_all(
    session: Session, changes: Sequence[Change], *, actor: str | None = None, address: str | None = None
) -> None:
    """Append changes to the log in the order given: one lock and one look at the chain's end for all.

    An import creates thousands of objects in one transaction; chaining each alone cost a round
    trip for the lock and one for the last hash. Several changes are given ids drawn together
    beforehand, so that the chain's order (by id) is the order given. The lock is held until the
    transaction ends, so the end of the chain this transaction wrote stays the chain's end until
    then: a second call in the same transaction (an import's site, building, floors…) takes
    neither the lock nor the last hash again.
    """
    if not changes:
        return
    actor = actor or session.info.get("actor") or "system"
    address = address or session.info.get("address")
    prev = session.info.get(_HEAD)
    if prev is None:
        # The last lock of the transaction: every domain row it changes is locked already (above).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        prev = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
    ids: Sequence[int | None] = draw_ids(session, AuditRow.__tablename__, len(changes)) if len(changes) > 1 else [None]
    for audit_id, change in zip(ids, changes, strict=True):
        at = utcnow()
        before, after = _jsonable(change.before), _jsonable(change.after)
        oid = None if change.object_id is None else str(change.object_id)
        digest = row_hash(prev, at, actor, address, change.action, change.kind, oid, before, after)
        session.add(
            AuditRow(
                id=audit_id,
                at=at,
                actor=actor,
                address=address,
                action=change.action,
                object_kind=change.kind,
                object_id=oid,
                before=before,
                after=after,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.flush()
    session.info[_HEAD] = prev


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    """Forget the chain's end with the lock: at commit, rollback, and a savepoint's end (its rows may be gone).

    Not at the end of the inner transaction every flush opens, which ends nothing in the database.
    """
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    row_id: int
    reason: str


def verify(session: Session, batch: int = 5000) -> tuple[int, Break | None]:
    """Recompute the chain; return how many rows were checked and the first break, if any."""
    expected_prev = GENESIS
    checked = 0
    for row in _rows(session, batch):
        if row.prev_hash != expected_prev:
            return checked, Break(row.id, "its predecessor was changed or deleted (prev_hash does not match)")
        actual = row_hash(
            row.prev_hash,
            row.at,
            row.actor,
            row.address,
            row.action,
            row.object_kind,
            row.object_id,
            row.before,
            row.after,
        )
        if actual != row.hash:
            return checked, Break(row.id, "its content was changed after it was written")
        expected_prev = row.hash
        checked += 1
    return checked, None


def _rows(session: Session, batch: int) -> Iterator[AuditRow]:
    last = 0
    while True:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.id > last).order_by(AuditRow.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()
