"""The live ingest: MQTT batches in; device state, health, history and the discovered list out.

    broker ─▶ MqttClient ─▶ decode ─▶ bind ─▶ latest state + health (memory, at once)
                                         └──▶ DurableQueue ─▶ COPY into history (or spill to disk)
                                              state, health, discoveries ─▶ upserted every second

Everything on the event loop is memory work; the database is written on one worker thread and
the disk on another, so a slow PostgreSQL delays neither decoding nor the latest state. Messages
are acknowledged to the broker only once their readings are durable (see ``realtime.writer``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from realtime.bindings import HEALTH_EVENT, Bindings, BindingTable, Bound, load_bindings
from realtime.decode import Availability, Decoder, Reading
from realtime.health import Gateway, HealthChange, HealthTracker
from realtime.history import HealthRow, StateRow, TelemetryStore, Unavailable, conninfo_of
from realtime.maintenance import Maintenance
from realtime.message import ReceiveMessage
from realtime.metrics import Gauges, IngestCollector
from realtime.mqtt import BrokerSettings, BrokerTransport, Delivery, MqttClient, PahoTransport
from realtime.rejects import RejectLog
from realtime.specs import Profile
from realtime.spool import Row, Spool
from realtime.state import Latest, LatestState, StateKey
from realtime.unbound import Unbound
from realtime.writer import DurableQueue, PipelineCounts
from twin.events import EventBus, RegistryEvent
from twin.graph.paths import scopes
from twin.store.telemetry import value_columns

log = logging.getLogger(__name__)
T = TypeVar("T")

SMALL_BATCH = 100
BATCH_LINGER_S = 0.005
SHARED_REFRESH_S = 20.0


@dataclass(frozen=True)
class IngestConfig:
    """Everything the ingest needs to know, gathered by the composition root from the settings."""

    broker: BrokerSettings
    profiles: Sequence[Profile]
    database_url: str
    spool_dir: Path
    spool_max_bytes: int = 1 << 30
    memory_rows: int = 100_000
    spill_after_s: float = 2.0
    state_flush_s: float = 1.0
    health_tick_s: float = 5.0
    maintenance_s: float = 600.0
    inbox_capacity: int = 10_000


class Ingest:
    """One running ingest: start it in the server's lifespan (or ``twin ingest``), stop it at shutdown."""

    def __init__(
        self,
        config: IngestConfig,
        engine: Engine,
        *,
        events: EventBus | None = None,
        registry: CollectorRegistry | None = None,
        transport: BrokerTransport | None = None,
    ) -> None:
        """Wire the parts; nothing connects until ``start``."""
        self.config = config
        self.events = events
        self.decoder = Decoder(config.profiles)
        self.transport = transport or PahoTransport(config.broker)
        self.client = MqttClient(self.transport, capacity=config.inbox_capacity)
        namespaces = {p.namespace for p in config.profiles}
        self.bindings = Bindings(lambda: load_bindings(engine, namespaces), events)
        self.state = LatestState()
        self.health = HealthTracker()
        self.unbound = Unbound()
        self.rejects = RejectLog()
        self.counts = PipelineCounts()
        self.store = TelemetryStore(conninfo_of(config.database_url))
        self._db = ThreadPoolExecutor(1, thread_name_prefix="twin-ingest-db")
        self.queue = DurableQueue(
            self.store,
            Spool(config.spool_dir, config.spool_max_bytes),
            self._run_db,
            self.counts,
            memory_rows=config.memory_rows,
            spill_after_s=config.spill_after_s,
        )
        self.maintenance = Maintenance(conninfo_of(config.database_url))
        self._registry = registry
        self._collector = IngestCollector(
            self.counts,
            self.decoder.counters,
            Gauges(
                lambda: self.queue.waiting_rows,
                lambda: self.queue.spool.bytes,
                lambda: self.queue.database_up,
                self.broker_connected,
                lambda: len(self.unbound),
            ),
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer: asyncio.Task[None] | None = None
        self._reload_after = 0.0
        self._running = False
        self.health_listeners: list[Callable[[list[HealthChange]], None]] = []
        """Called with every batch of health changes (the alarm rules, ``realtime.rules``): memory work only."""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load bindings, prepare history partitions, connect to the broker and start the workers."""
        await self._reload_bindings(force=True)
        await asyncio.to_thread(partial(self.maintenance.run, datetime.now(UTC), expire=False))
        if self._registry is not None:
            self._registry.register(self._collector)
        await self.client.start()
        for profile in self.config.profiles:
            for topic_filter in profile.subscriptions():
                self.client.subscribe(topic_filter)
        self._running = True
        self._consumer = asyncio.create_task(self._consume(), name="ingest-consume")
        for name, work in (
            ("ingest-write", self.queue.run_writer()),
            ("ingest-spill", self.queue.run_spiller()),
            ("ingest-flush", self._flush_loop()),
            ("ingest-health", self._health_loop()),
            ("ingest-maintain", self._maintenance_loop()),
        ):
            self._tasks.append(asyncio.create_task(work, name=name))

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, make what was taken durable, flush state, and disconnect."""
        if not self._running:
            return
        self._running = False
        self.client.inbox.close()
        if self._consumer is not None:
            try:
                await asyncio.wait_for(self._consumer, timeout)
            except TimeoutError:
                log.warning("ingest did not drain its inbox in %s s; the broker redelivers the rest", timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.queue.finish(timeout)
        try:
            await self.flush_state()
        except Exception:  # shutting down: what is not flushed is re-learnt from live data
            log.warning("latest state not flushed at shutdown", exc_info=True)
        await self.client.close()
        self.bindings.close()
        await self._run_db(self.store.close)
        self._db.shutdown(wait=True)
        if self._registry is not None:
            self._registry.unregister(self._collector)

    def broker_connected(self) -> bool:
        """Tell whether the broker connection is up (for readiness)."""
        return bool(getattr(self.transport, "connected", self._running))

    async def _run_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    # -- the hot path ------------------------------------------------------------------------------

    async def _consume(self) -> None:
        async for delivery in self.client.deliveries():
            await self.queue.room()
            if self.bindings.stale:
                await self._reload_bindings()
            try:
                self.ingest(delivery)
            except Exception:
                # A bug here must not stop the ingest; the batch stays unacknowledged and comes back.
                log.exception("ingest of a batch of %d messages failed", len(delivery.messages))
            # A small batch costs the loop nearly as much as a large one: let a few milliseconds of
            # messages gather before the next, which leaves the GIL to the paho thread meanwhile.
            await asyncio.sleep(BATCH_LINGER_S if len(delivery.messages) < SMALL_BATCH else 0)

    def ingest(self, delivery: Delivery) -> None:
        """Decode, bind and apply one batch; queue its history rows with its acknowledgement."""
        rows: list[Row] = []
        changed: list[tuple[StateKey, Latest]] = []
        health: list[HealthChange] = []
        for message in delivery.messages:
            self._message(message, rows, changed, health)
        self.queue.add(rows, delivery, [m.received_at for m in delivery.messages])
        if changed:
            self.state.announce(changed)
        if health:
            self._announce_health(health)

    def _message(
        self,
        message: ReceiveMessage,
        rows: list[Row],
        changed: list[tuple[StateKey, Latest]],
        health: list[HealthChange],
    ) -> None:
        counts = self.counts
        counts.received += 1
        result = self.decoder.decode(message)
        if result.rejects:
            counts.rejected += len(result.rejects)
            for reject in result.rejects:
                self.rejects.add(reject)
        if result.availability:
            for item in result.availability:
                health.extend(self._availability(item, message))
        readings = result.readings
        if not readings:
            return
        counts.decoded += len(readings)
        at = datetime.fromtimestamp(message.received_at, UTC)
        state, lookup = self.state, self.bindings.lookup
        start = 0
        while start < len(readings):
            identity = readings[start].identity
            end = start + 1
            while end < len(readings) and readings[end].identity == identity:
                end += 1
            bound = lookup(identity)
            via = self._via(readings[start])
            if bound is None:
                counts.unknown += end - start
                self.unbound.saw(identity, readings[start].profile, message.topic, at, readings[start:end])
                if via is not None:  # an unbound device's message still came through its gateway
                    health.extend(self.health.relayed(via, at))
                start = end
                continue
            changes = self.health.seen(bound, at, via)
            if changes:
                health.extend(changes)
            device_id = bound.device_id
            for reading in readings[start:end]:
                value = reading.value
                if isinstance(value, str):
                    value = value.replace("\x00", "")
                    rows.append((device_id, reading.quantity, reading.time, None, value))
                else:
                    rows.append((device_id, reading.quantity, reading.time, float(value), None))
                if state.update(device_id, reading.quantity, value, reading.unit, reading.time):
                    changed.append(((device_id, reading.quantity), Latest(value, reading.unit, reading.time)))
            start = end

    def _via(self, reading: Reading) -> Gateway | None:
        """Return the gateway a reading came through: its device when bound, else its identity."""
        if reading.via is None:
            return None
        return self.bindings.table.by_identity.get(reading.via) or reading.via

    def _availability(self, item: Availability, message: ReceiveMessage) -> list[HealthChange]:
        at = datetime.fromtimestamp(message.received_at, UTC)
        bound = self.bindings.lookup(item.identity)
        if bound is None:
            self.unbound.saw(item.identity, item.profile, message.topic, at, [])
            return self.health.availability(item.identity, item.online, at)
        return self.health.availability(bound, item.online, at)

    # -- bindings, health, state -------------------------------------------------------------------

    async def _reload_bindings(self, force: bool = False) -> None:
        if not force and time.monotonic() < self._reload_after:
            return
        try:
            table: BindingTable = await asyncio.to_thread(self.bindings.reload)
        except Exception as exc:
            if force:
                raise
            self._reload_after = time.monotonic() + 5.0  # the database is away: keep the old table
            log.warning("bindings not reloaded (%s); using the previous ones", exc)
            return
        self._reload_after = 0.0
        changes = self.health.adopt(table.devices, datetime.now(UTC))
        self._announce_health(changes)

    def _announce_health(self, changes: list[HealthChange]) -> None:
        """Publish health changes at once: liveness is live state, its row follows at the next flush."""
        for listener in self.health_listeners:
            try:
                listener(changes)
            except Exception:
                log.exception("health listener failed")
        if self.events is None:
            return
        for change in changes:
            device: Bound = change.device
            self.events.publish(
                RegistryEvent(
                    "update",
                    HEALTH_EVENT,
                    device.device_id,
                    scopes(device.path, device.device_id),
                    {
                        "health": change.health.value,
                        "previous": change.previous.value,
                        "last_seen": change.last_seen.isoformat() if change.last_seen else None,
                    },
                )
            )

    async def _health_loop(self) -> None:
        shared = self.config.broker.shared_group is not None
        reloaded = time.monotonic()
        while True:
            await asyncio.sleep(self.config.health_tick_s)
            if shared and time.monotonic() - reloaded > SHARED_REFRESH_S:
                # Each instance hears only its share of the devices; the last-seen times the others
                # flushed come with the bindings, so that nobody calls a device silent that is not.
                reloaded = time.monotonic()
                self.bindings.stale = True
                await self._reload_bindings()
            self._announce_health(self.health.tick(datetime.now(UTC)))

    async def flush_state(self) -> None:
        """Upsert latest values, health and discoveries that changed since the last flush."""
        dirty = self.state.take_dirty()
        nodes = self.health.take_dirty()
        sightings = self.unbound.take()
        state_rows = [StateRow(k[0], k[1], *value_columns(v.value), v.unit, v.time) for k, v in dirty]
        health_rows = [HealthRow(n.device.device_id, n.health.value, n.last_seen) for n in nodes]
        try:
            await self._run_db(self.store.write_state, state_rows, health_rows, sightings)
        except BaseException:
            self.state.restore_dirty([key for key, _ in dirty])
            for node in nodes:
                node.dirty = True
            self.unbound.restore(sightings)
            raise

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.state_flush_s)
            if not self.queue.database_up:
                continue
            try:
                await self.flush_state()
            except Unavailable:
                pass  # the writer notices too, and probes until it is back
            except Exception:
                log.exception("latest state flush failed; retrying")

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.maintenance_s)
            try:
                await asyncio.to_thread(self.maintenance.run, datetime.now(UTC))
            except Exception:
                log.exception("history maintenance failed; retrying in %s s", self.config.maintenance_s)

    # -- what the API reads ------------------------------------------------------------------------

    def latest(self, device_id: int) -> dict[str, dict[str, Any]]:
        """Return a device's latest values seen by this process, by quantity."""
        return {
            quantity: {"value": v.value, "unit": v.unit, "time": v.time}
            for quantity, v in self.state.of(device_id).items()
        }

    def health_of(self, device_id: int) -> tuple[str, datetime | None] | None:
        """Return a device's live health and last-seen time, if this process tracks it."""
        node = self.health.nodes.get(device_id)
        return (node.health.value, node.last_seen) if node is not None else None

    def reject_samples(self) -> dict[str, Any]:
        """Return the reject counts per profile and the latest samples per reason."""
        return {"profiles": self.decoder.counters.as_dict(), "samples": self.rejects.as_dict()}

    def status(self) -> dict[str, Any]:
        """Return the pipeline's counters and levels."""
        return {
            "running": self._running,
            "broker_connected": self.broker_connected(),
            "database_up": self.queue.database_up,
            "waiting_readings": self.queue.waiting_rows,
            "spool_bytes": self.queue.spool.bytes,
            "counts": {name: getattr(self.counts, name) for name in PipelineCounts.__dataclass_fields__},
        }
