"""The audit log: every change, who made it, when, from where, before and after — hash-chained and sealed.

Each row carries the hash of the row before it, so a row edited or deleted behind the
application's back breaks the chain at that row. Since the hashes alone can be recomputed by
whoever can write the table, each row is also MACed with a key the database never holds, and
each transaction that appended rows leaves a signed checkpoint of the chain's length and head in
a file outside the database (``twin.audit_seal``): ``twin audit verify`` finds a rewritten row
and newest rows deleted. Appends are serialised by a transaction-scoped advisory lock, so two
concurrent changes never chain to the same predecessor; the lock is held only until the change
commits.

The lock order: a transaction first locks the domain rows it changes (a use case loads them
``FOR UPDATE``: ``get_alarm(…, lock=True)``, ``get_ticket``, ``get_charge``), and the audit chain's
lock is the last it takes. Taken the other way round — an alarm's ticket audited, and so the
chain locked, before the alarm row is written, while an acknowledgement holds that row and waits
for the chain — two transactions wait for each other and PostgreSQL fails one of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import event, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, SessionTransaction

from twin.audit_seal import AuditSeal, Checkpoint, CheckpointFileAltered
from twin.store.base import draw_ids, utcnow
from twin.store.security import AuditRow

log = logging.getLogger(__name__)

GENESIS = "0" * 64
LOCK_KEY = 7_310_424_101
"""The advisory lock that orders appends (any constant unique to this table)."""
_HEAD = "audit_chain_head"
"""Where a session keeps the end of the chain its transaction last appended, while it holds the lock."""
_PENDING = "audit_checkpoint"
"""The checkpoint a session writes once its transaction commits."""
SEAL = "audit_seal"
"""The key of ``Session.info`` under which a server's sessions carry its seal (else the settings' is used)."""
_CHAIN = (
    "SELECT pg_advisory_xact_lock(:key), (SELECT oid FROM pg_database WHERE datname = current_database())::text, "
    "(SELECT legacy_until FROM audit_chain)"
)
"""Take the lock, and in the same round trip name the database and the entries that predate the key."""


class _Head(NamedTuple):
    hash: str
    seq: int
    database: str
    legacy_until: int


def seal_of(key_file: Path, checkpoints: Path) -> AuditSeal:
    """Return the seal of a key file and a checkpoint file, loaded once per process."""
    return _seal_of(key_file.resolve(), checkpoints.resolve())


@lru_cache(maxsize=8)
def _seal_of(key_file: Path, checkpoints: Path) -> AuditSeal:
    return AuditSeal.from_files(key_file, checkpoints)


def session_seal(session: Session) -> AuditSeal:
    """Return the seal a session writes and verifies with: its server's, else the process settings'.

    The CLI, the importers and the rule engine open sessions of their own; they read the same
    settings (``TWIN_AUDIT_KEY_FILE``, ``TWIN_HOME``) as the server beside them, so all write one chain.
    """
    seal = session.info.get(SEAL)
    if isinstance(seal, AuditSeal):
        return seal
    from twin.settings import get_settings

    settings = get_settings()
    return seal_of(settings.audit_key_path(), settings.audit_checkpoint_path())


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
    seal = session_seal(session)
    head: _Head | None = session.info.get(_HEAD)
    if head is None:
        # The last lock of the transaction: every domain row it changes is locked already (above).
        _, database, legacy_until = session.execute(text(_CHAIN), {"key": LOCK_KEY}).one()
        last = session.execute(select(AuditRow.hash, AuditRow.seq).order_by(AuditRow.id.desc()).limit(1)).first()
        head = _Head(last.hash, last.seq, database, legacy_until) if last else _Head(GENESIS, 0, database, legacy_until)
    ids: Sequence[int | None] = draw_ids(session, AuditRow.__tablename__, len(changes)) if len(changes) > 1 else [None]
    prev, seq = head.hash, head.seq
    rows = []
    for audit_id, change in zip(ids, changes, strict=True):
        at = utcnow()
        before, after = _jsonable(change.before), _jsonable(change.after)
        oid = None if change.object_id is None else str(change.object_id)
        digest = row_hash(prev, at, actor, address, change.action, change.kind, oid, before, after)
        seq += 1
        row = AuditRow(
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
            seq=seq,
            mac=seal.mac(seq, digest),
        )
        session.add(row)
        rows.append(row)
        prev = digest
    session.flush()
    session.info[_HEAD] = head._replace(hash=prev, seq=seq)
    end = Checkpoint(head.database, seq, rows[-1].id, prev, head.legacy_until, at.isoformat())
    session.info[_PENDING] = (seal, end)


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    """Forget the chain's end with the lock: at commit, rollback, and a savepoint's end (its rows may be gone).

    Not at the end of the inner transaction every flush opens, which ends nothing in the database.
    """
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)
        # A savepoint's rows may have been rolled back: its checkpoint is left to the next transaction.
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_commit")
def _write_checkpoint(session: Session) -> None:
    """Write the chain's new end outside the database once the rows it names are committed.

    A failure is logged, not raised: the change is already committed, and the next transaction's
    checkpoint covers these rows too.
    """
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    seal, checkpoint = pending
    try:
        seal.write_checkpoint(checkpoint)
    except OSError as exc:
        log.warning("audit checkpoint not written to %s: %s", seal.checkpoints, exc)


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why (no entry when the checkpoint file itself fails)."""

    row_id: int | None
    reason: str


def verify(session: Session, batch: int = 5000) -> tuple[int, Break | None]:
    """Check every entry's position, hash link, hash and MAC, and the chain against its latest checkpoint.

    Return how many entries hold and the first break, if any. Entries up to ``legacy_until`` predate
    the key and are checked by their hashes only; the line is read from the latest checkpoint
    (MACed) when there is one, so the database cannot move it.
    """
    seal = session_seal(session)
    database, legacy_until = session.execute(
        text(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::text, "
            "(SELECT legacy_until FROM audit_chain)"
        )
    ).one()
    try:
        checkpoint = seal.latest(database)
    except CheckpointFileAltered as exc:
        return 0, Break(None, str(exc))
    if checkpoint is not None:
        legacy_until = checkpoint.legacy_until
    expected_prev = GENESIS
    checked = 0
    last_id: int | None = None
    for row in _rows(session, batch):
        broken = _check(row, checked + 1, expected_prev, legacy_until, seal)
        if broken is None and checkpoint is not None and row.seq == checkpoint.seq and row.hash != checkpoint.head:
            broken = f"it is not the entry the checkpoint of {checkpoint.at} recorded at position {row.seq}"
        if broken is not None:
            return checked, Break(row.id, broken)
        expected_prev = row.hash
        checked += 1
        last_id = row.id
    if checkpoint is not None and checked < checkpoint.seq:
        return checked, Break(
            checkpoint.id,
            f"the newest entries were deleted: the checkpoint of {checkpoint.at} counted {checkpoint.seq} "
            f"entries ending at id {checkpoint.id}, the log has {checked}"
            + (f" ending at id {last_id}" if last_id is not None else ""),
        )
    return checked, None


def _check(row: AuditRow, seq: int, expected_prev: str, legacy_until: int, seal: AuditSeal) -> str | None:
    """Return why one entry does not hold, or None."""
    if row.seq != seq:
        return f"its position was changed or an entry before it deleted (seq {row.seq}, expected {seq})"
    if row.prev_hash != expected_prev:
        return "its predecessor was changed or deleted (prev_hash does not match)"
    actual = row_hash(
        row.prev_hash, row.at, row.actor, row.address, row.action, row.object_kind, row.object_id, row.before, row.after
    )
    if actual != row.hash:
        return "its content was changed after it was written"
    if row.seq > legacy_until:
        if row.mac is None:
            return "it has no MAC (written without the audit key, or its MAC was removed)"
        if not seal.entry_holds(row.seq, row.hash, row.mac):
            return "its MAC does not match: it was rewritten, hashes recomputed, by someone without the audit key"
    return None


def _rows(session: Session, batch: int) -> Iterator[AuditRow]:
    last = 0
    while True:
        rows = list(session.scalars(select(AuditRow).where(AuditRow.id > last).order_by(AuditRow.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()
