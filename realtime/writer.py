"""The bounded queue between decoding and storage, and the only place that acknowledges to the broker.

Each MQTT batch becomes a ``Batch`` of history rows. A batch is acknowledged once it is durable —
committed in PostgreSQL, or spilled to the disk spool — and batches are acknowledged in the order
they arrived (MQTT wants PUBACKs in order). So a crash at any moment loses nothing: what was not
durable was not acknowledged, and the broker sends it again.

The writer takes every waiting batch at once (while one COPY runs, the next one accumulates:
batches grow with the load, and latency stays one write long when it is light). When the
database is away, or slower than ``spill_after_s``, or the waiting rows exceed the memory bound,
the waiting batches are spilled to disk and acknowledged, so the broker keeps sending and the
latest state keeps updating; the spool is written back when the database answers again. When
the spool too is full, intake stops and the broker holds the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from realtime.history import TelemetryStore, Unavailable, WriteResult
from realtime.mqtt import Delivery
from realtime.spool import Row, Spool

log = logging.getLogger(__name__)

T = TypeVar("T")
RunDb = Callable[..., Awaitable[Any]]

LATENCY_SAMPLES = 100_000


@dataclass(slots=True)
class PipelineCounts:
    """Where every reading went, for ``/metrics``: nothing is lost silently."""

    received: int = 0
    """MQTT messages taken from the broker."""
    decoded: int = 0
    """Readings the decoder produced."""
    rejected: int = 0
    """Messages or values refused by the decoder, with a reason."""
    unknown: int = 0
    """Readings of identities bound to no device (kept in the discovered list)."""
    written: int = 0
    """History rows committed to PostgreSQL."""
    duplicates: int = 0
    """Rows already stored (redelivered after a reconnect, or replayed from the spool)."""
    refused: int = 0
    """Rows PostgreSQL refused for their content (logged one by one)."""
    spilled: int = 0
    """Rows spilled to disk while the database was slow or away."""
    replayed: int = 0
    """Spilled rows written back from the spool."""


@dataclass(slots=True)
class Batch:
    """The rows of one MQTT batch and the acknowledgement that waits for them."""

    rows: list[Row]
    delivery: Delivery | None
    received: list[float]
    """Receipt times of its messages (for the receipt → visible latency)."""
    born: float = field(default_factory=time.monotonic)
    durable: bool = False


class DurableQueue:
    """Batches waiting to be durable, the writer that stores them and the spiller that saves them."""

    def __init__(
        self,
        store: TelemetryStore,
        spool: Spool,
        run_db: RunDb,
        counts: PipelineCounts,
        *,
        memory_rows: int = 100_000,
        spill_after_s: float = 2.0,
        max_write_rows: int = 50_000,
        retry_s: float = 1.0,
        linger_s: float = 0.025,
    ) -> None:
        """Write through ``store`` on the database thread that ``run_db`` runs calls on."""
        self.store, self.spool, self.run_db, self.counts = store, spool, run_db, counts
        self.memory_rows, self.spill_after_s = memory_rows, spill_after_s
        self.max_write_rows, self.retry_s, self.linger_s = max_write_rows, retry_s, linger_s
        self._last_write = 0.0
        self.database_up = True
        self.latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        """Seconds from receipt to commit of recent messages (the bench reads its p99)."""
        self._batches: deque[Batch] = deque()
        self._waiting_rows = 0
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._spilling = False

    @property
    def waiting_rows(self) -> int:
        """Return how many rows are held in memory, not yet durable."""
        return self._waiting_rows

    def add(self, rows: list[Row], delivery: Delivery | None, received: list[float]) -> None:
        """Queue one MQTT batch's rows; a batch without rows is durable at once."""
        batch = Batch(rows, delivery, received, durable=not rows)
        self._batches.append(batch)
        if rows:
            self._waiting_rows += len(rows)
            if self._waiting_rows >= self.memory_rows:
                self._room.clear()
            self._wake.set()
        else:
            self._ack_ready()

    async def room(self) -> None:
        """Wait while memory is full and the spool cannot take more (the broker holds the rest)."""
        while not self._room.is_set():
            await self._room.wait()

    def _durable(self, batch: Batch) -> None:
        if not batch.durable:
            batch.durable = True
            self._waiting_rows -= len(batch.rows)
            batch.rows = []
        if self._waiting_rows < self.memory_rows:
            self._room.set()

    def _ack_ready(self) -> None:
        """Acknowledge the batches at the head that are durable, in arrival order."""
        while self._batches and self._batches[0].durable:
            batch = self._batches.popleft()
            if batch.delivery is not None:
                batch.delivery.ack()

    def _pending(self) -> list[Batch]:
        return [b for b in self._batches if not b.durable]

    async def write_once(self) -> bool:
        """Write the waiting batches (up to the row limit) in one transaction; return whether any were."""
        todo: list[Batch] = []
        rows: list[Row] = []
        for batch in self._pending():
            if rows and len(rows) + len(batch.rows) > self.max_write_rows:
                break
            todo.append(batch)
            rows.extend(batch.rows)
        if not todo:
            return False
        try:
            result: WriteResult = await self.run_db(self.store.write_history, rows)
        except Unavailable as exc:
            self._down(exc)
            return False
        except Exception:
            log.exception("history write failed; spilling its %d rows so nothing is lost", len(rows))
            await self.spill(todo)
            return False
        committed = time.time()
        self._count(result)
        for batch in todo:
            self.latencies.extend(committed - r for r in batch.received)
            self._durable(batch)
        self._ack_ready()
        return True

    def _count(self, result: WriteResult, replayed: bool = False) -> None:
        self.counts.written += result.written
        self.counts.duplicates += result.duplicates
        self.counts.refused += result.refused
        if replayed:
            self.counts.replayed += result.written + result.duplicates

    def _down(self, exc: BaseException) -> None:
        if self.database_up:
            log.warning("database unavailable (%s); spilling readings to %s", exc, self.spool.directory)
        self.database_up = False
        self._wake.set()

    async def spill(self, batches: list[Batch] | None = None) -> int:
        """Save waiting batches to the spool and acknowledge them; return the rows spilled."""
        if self._spilling:
            return 0
        todo = [b for b in (batches if batches is not None else self._pending()) if not b.durable]
        if not todo:
            return 0
        if self.spool.full:
            return 0
        rows = [row for batch in todo for row in batch.rows]
        self._spilling = True
        try:
            await asyncio.to_thread(self.spool.put, rows)
        finally:
            self._spilling = False
        self.counts.spilled += len(rows)
        for batch in todo:
            self._durable(batch)
        self._ack_ready()
        return len(rows)

    async def replay_once(self) -> bool:
        """Write back the oldest spool chunk; return whether there was one and it was written."""
        chunks = self.spool.chunks()
        if not chunks:
            return False
        rows = await asyncio.to_thread(self.spool.read, chunks[0])
        if rows is None:
            return True
        try:
            result: WriteResult = await self.run_db(self.store.write_history, rows)
        except Unavailable as exc:
            self._down(exc)
            return False
        except Exception:
            log.exception("spool chunk %s could not be written; set aside for inspection", chunks[0].name)
            self.spool.set_aside(chunks[0])
            return False
        self._count(result, replayed=True)
        self.spool.done(chunks[0])
        return True

    async def run_writer(self) -> None:
        """Write batches as they come; while the database is away, probe it and let the spiller work."""
        while True:
            if not self.database_up:
                await asyncio.sleep(self.retry_s)
                try:
                    await self.run_db(self.store.ping)
                except Unavailable:
                    continue
                log.info("database is back; writing %d spooled chunks", len(self.spool.chunks()))
                self.database_up = True
            # Under light load, wait a moment for more rows: a transaction costs the same for ten
            # rows as for a thousand. Under heavy load the rows accumulate during the last write anyway.
            idle = time.monotonic() - self._last_write
            if self._waiting_rows < self.max_write_rows // 10 and idle < self.linger_s:
                await asyncio.sleep(self.linger_s - idle)
            self._last_write = time.monotonic()
            wrote = await self.write_once()
            if not wrote and self.database_up and not self._pending():
                if await self.replay_once():
                    continue
                self._wake.clear()
                if not self._pending():
                    await self._wake.wait()

    async def run_spiller(self, period_s: float = 0.1) -> None:
        """Spill what waits too long, or too much, or while the database is away."""
        while True:
            await asyncio.sleep(period_s)
            pending = self._pending()
            if not pending:
                continue
            too_old = time.monotonic() - pending[0].born > self.spill_after_s
            if not self.database_up or too_old or self._waiting_rows >= self.memory_rows:
                try:
                    await self.spill(pending)
                except OSError:
                    log.exception("cannot spill to %s; the broker keeps the messages", self.spool.directory)
                    await asyncio.sleep(self.retry_s)

    async def finish(self, timeout: float) -> None:
        """Make every waiting batch durable before shutdown: written if possible, else spilled."""
        deadline = time.monotonic() + timeout
        while self._pending() and self.database_up and time.monotonic() < deadline:
            if not await self.write_once():
                break
        if self._pending():
            await self.spill()
        self._ack_ready()
