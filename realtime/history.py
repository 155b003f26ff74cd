"""The ingest's writes to PostgreSQL: history by COPY, latest state, health and discoveries by batch.

One connection, used by one worker thread, so that writes never wait for the API's pool and the
event loop never waits for the database. History goes in with binary COPY, thousands of rows per
transaction, never one commit per reading. Delivery is at least once, so a batch may hold rows
already stored (a redelivery after a reconnect, a spool chunk replayed after a crash): COPY then
fails on the primary key, and the batch is written again through a staging table that skips
what exists. A row the database refuses for its content is isolated by halving the batch, logged
and counted, so one bad value never blocks the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from realtime.spool import Row
from realtime.unbound import Sighting
from twin.store.base import utcnow
from twin.store.telemetry import PARTITIONED, create_partition_sql, partition_bounds, rolled_up_before

log = logging.getLogger(__name__)

Unavailable = (psycopg.OperationalError, psycopg.InterfaceError)
"""What a database that is down, restarting or unreachable raises."""

COPY_TYPES = ["int8", "text", "timestamptz", "float8", "text"]

_STAGE = "CREATE TEMP TABLE IF NOT EXISTS readings_in (LIKE readings) ON COMMIT DELETE ROWS"
_MERGE = (
    "INSERT INTO readings SELECT DISTINCT ON (device_id, quantity, time) * FROM readings_in "
    "ORDER BY device_id, quantity, time ON CONFLICT DO NOTHING"
)
_DIRTY = (
    "UPDATE telemetry_jobs SET dirty_from = LEAST(COALESCE(dirty_from, %(t)s), %(t)s) "
    "WHERE name = 'hourly' AND done_until > %(t)s"
)
_STATE_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS state_in (device_id int8, quantity text, value float8, flag bool, "
    "text text, unit text, time timestamptz) ON COMMIT DELETE ROWS"
)
_STATE_COPY = "COPY state_in FROM STDIN (FORMAT BINARY)"
_STATE_TYPES = ["int8", "text", "float8", "bool", "text", "text", "timestamptz"]
_STATE = """
INSERT INTO device_state (device_id, quantity, value, flag, text, unit, time)
SELECT DISTINCT ON (u.device_id, u.quantity) u.* FROM state_in u
 WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = u.device_id)
 ORDER BY u.device_id, u.quantity, u.time DESC
ON CONFLICT (device_id, quantity) DO UPDATE
   SET value = excluded.value, flag = excluded.flag, text = excluded.text, unit = excluded.unit, time = excluded.time
 WHERE device_state.time <= excluded.time
"""
_HEALTH_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS health_in (id int8, health text, last_seen timestamptz) ON COMMIT DELETE ROWS"
)
_HEALTH_COPY = "COPY health_in FROM STDIN (FORMAT BINARY)"
_HEALTH_TYPES = ["int8", "text", "timestamptz"]
_HEALTH = """
UPDATE devices d SET health = COALESCE(u.health, d.health), last_seen = GREATEST(d.last_seen, u.last_seen)
  FROM health_in u
 WHERE d.id = u.id AND d.retired_at IS NULL
"""
_DISCOVERED = """
INSERT INTO discovered_identities (namespace, value, profile, topic, first_seen, last_seen, messages, latest, hint)
SELECT %(ns)s::text, %(value)s::text, %(profile)s::text, %(topic)s::text, %(first)s::timestamptz,
       %(last)s::timestamptz, %(messages)s::bigint, %(latest)s::jsonb, %(hint)s::jsonb
 WHERE NOT EXISTS (SELECT 1 FROM identifiers i
                    WHERE (i.namespace = %(ns)s::text AND i.value = %(value)s::text)
                       OR (i.namespace = 'mqtt' AND i.value = %(ns)s::text || '/' || %(value)s::text))
ON CONFLICT (namespace, value) DO UPDATE
   SET profile = excluded.profile, topic = excluded.topic, hint = excluded.hint,
       first_seen = LEAST(discovered_identities.first_seen, excluded.first_seen),
       last_seen = GREATEST(discovered_identities.last_seen, excluded.last_seen),
       messages = discovered_identities.messages + excluded.messages,
       latest = discovered_identities.latest || excluded.latest
"""


def conninfo_of(url: str) -> str:
    """Turn the twin's SQLAlchemy URL into a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class StateRow:
    """One latest value to upsert."""

    device_id: int
    quantity: str
    value: float | None
    flag: bool | None
    text: str | None
    unit: str
    time: datetime


@dataclass(frozen=True, slots=True)
class HealthRow:
    """A device's health (None: unchanged) and last-seen time to store."""

    device_id: int
    health: str | None
    last_seen: datetime | None


@dataclass(slots=True)
class WriteResult:
    """What one history write did."""

    written: int = 0
    duplicates: int = 0
    refused: int = 0


class TelemetryStore:
    """A connection that writes history, state, health and discoveries; reconnects after a failure."""

    def __init__(self, conninfo: str, *, connect_timeout: int = 5, statement_timeout_ms: int = 30_000) -> None:
        """Remember how to connect; nothing connects until the first write."""
        self.conninfo = conninfo
        self.connect_timeout = connect_timeout
        self.statement_timeout_ms = statement_timeout_ms
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._partitions: set[str] = set()

    def connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """Return the open connection, opening one if needed (raises when the database is away)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.close()
            self._conn = psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=self.connect_timeout,
                options=f"-c statement_timeout={self.statement_timeout_ms}",
                application_name="twin-ingest",
            )
            self._load_catalogue(self._conn)
        return self._conn

    def _load_catalogue(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s)",
            (list(PARTITIONED),),
        ).fetchall()
        self._partitions = {str(r[0]) for r in rows}

    def close(self) -> None:
        """Close the connection, if any."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def ping(self) -> None:
        """Prove the database answers (raises otherwise)."""
        self.connection().execute("SELECT 1")

    def ensure_partitions(self, table: str, times: Iterable[datetime]) -> None:
        """Create the partitions of ``table`` that hold ``times``, unless they exist."""
        conn = self.connection()
        interval = PARTITIONED[table]
        starts = {partition_bounds(t, interval)[0] for t in times}
        for start in sorted(starts):
            name, ddl = create_partition_sql(table, start)
            if name in self._partitions:
                continue
            try:
                conn.execute(ddl)
            except psycopg.errors.DuplicateTable:
                pass  # another instance created it a moment ago
            self._partitions.add(name)

    def write_history(self, rows: Sequence[Row]) -> WriteResult:
        """Store rows in ``readings`` in one transaction; rows already there are skipped."""
        result = WriteResult()
        if not rows:
            return result
        times = [row[2] for row in rows]
        oldest, newest = min(times), max(times)
        bounds = {partition_bounds(oldest, "month")[0], partition_bounds(newest, "month")[0]}
        self.ensure_partitions("readings", times if len(bounds) > 1 else (oldest,))
        conn = self.connection()
        try:
            with conn.transaction():
                self._copy(conn, "readings", rows)
                self._mark_late(conn, oldest)
            result.written = len(rows)
        except psycopg.errors.UniqueViolation:
            result = self._merge(conn, rows, oldest)
        except Unavailable:
            raise
        except psycopg.Error as exc:
            log.warning("history batch of %d rows refused (%s); isolating the bad rows", len(rows), exc)
            result = self._isolate(rows)
        return result

    def _copy(self, conn: psycopg.Connection[tuple[object, ...]], table: str, rows: Sequence[Row]) -> None:
        statement = sql.SQL("COPY {} (device_id, quantity, time, value, text) FROM STDIN (FORMAT BINARY)")
        with conn.cursor() as cur, cur.copy(statement.format(sql.Identifier(table))) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)

    def _mark_late(self, conn: psycopg.Connection[tuple[object, ...]], oldest: datetime) -> None:
        # Only a row in an hour a rollup may have covered needs it redone; the row lock taken here
        # waits for a rollup in progress, so its new watermark is the one compared with.
        if oldest < rolled_up_before(utcnow()):
            conn.execute(_DIRTY, {"t": oldest})

    def _merge(
        self, conn: psycopg.Connection[tuple[object, ...]], rows: Sequence[Row], oldest: datetime
    ) -> WriteResult:
        with conn.transaction():
            conn.execute(_STAGE)
            self._copy(conn, "readings_in", rows)
            written = conn.execute(_MERGE).rowcount
            self._mark_late(conn, oldest)
        return WriteResult(written=written, duplicates=len(rows) - written)

    def _isolate(self, rows: Sequence[Row]) -> WriteResult:
        """Write what the database accepts, halving the batch around rows it refuses."""
        if len(rows) == 1:
            try:
                part = self._merge(self.connection(), rows, rows[0][2])
            except Unavailable:
                raise
            except psycopg.Error as exc:
                log.error("history row refused and dropped: %r (%s)", rows[0], exc)
                return WriteResult(refused=1)
            return part
        half = len(rows) // 2
        total = WriteResult()
        for part_rows in (rows[:half], rows[half:]):
            try:
                part = self._merge(self.connection(), part_rows, min(r[2] for r in part_rows))
            except Unavailable:
                raise
            except psycopg.Error:
                part = self._isolate(part_rows)
            total.written += part.written
            total.duplicates += part.duplicates
            total.refused += part.refused
        return total

    def write_state(
        self, state: Sequence[StateRow], health: Sequence[HealthRow], sightings: Sequence[Sighting]
    ) -> None:
        """Upsert latest values, device health and discovered identities, each in its own transaction.

        A part the database refuses for its content is logged and dropped, so one bad value cannot
        stop every later flush; a database that is away raises, and the caller keeps everything.
        """
        conn = self.connection()
        if state:
            values = [(s.device_id, s.quantity, s.value, s.flag, s.text, s.unit, s.time) for s in state]
            self._stage(conn, "latest state", (_STATE_STAGE, _STATE_COPY, _STATE), _STATE_TYPES, values)
        if health:
            marks = [(h.device_id, h.health, h.last_seen) for h in health]
            self._stage(conn, "device health", (_HEALTH_STAGE, _HEALTH_COPY, _HEALTH), _HEALTH_TYPES, marks)
        if sightings:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(_DISCOVERED, [_sighting_params(s) for s in sightings])
            except Unavailable:
                raise
            except psycopg.Error:
                log.exception("discovered identities refused; %d sightings dropped", len(sightings))

    def _stage(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        what: str,
        statements: tuple[str, str, str],
        types: list[str],
        rows: Sequence[tuple[object, ...]],
    ) -> None:
        """COPY rows into a temporary table and merge them with one statement (no per-row SQL)."""
        stage, copy_sql, merge = statements
        try:
            with conn.transaction():
                conn.execute(stage)
                with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
                conn.execute(merge)
        except Unavailable:
            raise
        except psycopg.Error:
            log.exception("%s refused by the database; this flush of it is dropped", what)


def _sighting_params(s: Sighting) -> dict[str, object]:
    return {
        "ns": s.namespace[:64],
        "value": s.value[:200],
        "profile": s.profile[:64],
        "topic": s.topic,
        "first": s.first_seen,
        "last": s.last_seen,
        "messages": s.messages,
        "latest": Jsonb(s.latest),
        "hint": Jsonb(s.hint) if s.hint is not None else None,
    }
