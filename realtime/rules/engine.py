"""The rule engine on the live path: readings and health in, alarms committed out.

    ingest batch ─▶ RuleEngine.readings/health (memory, on the loop) ─▶ pending raises/clears
                                                                    └─▶ writer thread: one
                                                                        transaction per batch

Judging a reading is dictionary work on the event loop; the database is written on a thread of
its own, so the ingest never waits for PostgreSQL. The store, not this process, guarantees one
open alarm per condition (``twin.alarms.conditions``), so two instances sharing the stream, or
one restarted mid-alarm, converge on the same rows; at start the engine resumes from the open
alarms it finds. Place rules are judged in the database from the member alarms that every
instance writes, so two detectors heard by two instances still confirm one fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from realtime.bindings import Bound
from realtime.health import HealthChange
from realtime.rules.flapping import NOTE
from realtime.rules.index import RuleIndex
from realtime.rules.places import judge_places
from realtime.rules.topology import Topology
from realtime.rules.watch import Verdict, Watch, due, judge, settle
from realtime.state import Latest, StateKey
from twin.alarms.conditions import Occurrence, clear_condition, escalate_due, open_conditions, raise_alarm
from twin.alarms.rules import DeviceRule, RuleSet
from twin.catalogue import DeviceHealth
from twin.events import EventBus
from twin.store.engine import session_factory

log = logging.getLogger(__name__)

Op = tuple[str, Occurrence | tuple[str, str, datetime]]
OFFLINE = (DeviceHealth.OFFLINE, DeviceHealth.UNREACHABLE)


@dataclass(frozen=True, slots=True)
class EngineCounts:
    """What the engine did, for metrics and the bench."""

    raised: int
    cleared: int
    pending: int


class RuleEngine:
    """Judges every reading and health change against the rules; writes alarms on its own thread."""

    def __init__(
        self,
        rules: RuleSet,
        engine: Engine,
        devices: Callable[[int], Bound | None],
        *,
        events: EventBus | None = None,
        tags: dict[str, int] | None = None,
        utc_offset_h: float = 8.0,
        tick_s: float = 1.0,
    ) -> None:
        """Use ``rules`` for the devices that ``devices`` resolves; write through ``engine``."""
        self.engine, self.devices, self.events = engine, devices, events
        self.utc_offset_h, self.tick_s = utc_offset_h, tick_s
        self.topology = Topology()
        self._sessions = session_factory(engine)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="twin-rules-db")
        self._ops: list[Op] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._watches: dict[tuple[str, int], Watch] = {}
        self.raised = self.cleared = 0
        self.use(rules, tags or {})

    def use(self, rules: RuleSet, tags: dict[str, int]) -> None:
        """Judge by ``rules`` from now on (``tags``: the devices rules name by tag)."""
        self.rules = rules
        self.index = RuleIndex(rules, tags)

    def rules_for(self, device: Bound, quantity: str | None) -> list[DeviceRule]:
        """Return the rules that judge a device's quantity (None: its health)."""
        return self.index.rules_for(device, quantity)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume from the open alarms in the store, learn the topology, start the writer and tick."""
        resumed = await self._run_db(self._resume)
        log.info("rule engine resumed %d open conditions", resumed)
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="rules-write"),
            asyncio.create_task(self._tick_loop(), name="rules-tick"),
        ]

    async def stop(self) -> None:
        """Write what is pending, then stop."""
        self._wake.set()
        await self.flush()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._db.shutdown(wait=True)

    def _resume(self) -> int:
        with self._sessions() as session:
            self.topology.load(session)
            rows = open_conditions(session)
        now = datetime.now(UTC)
        for row in rows:
            if row.subject.startswith("device:"):
                watch = Watch(active=True, severity=row.severity)
                if row.flapping:  # held on: the hour of quiet starts again
                    watch.held = Verdict("raise", row.severity, None, row.message.split(NOTE)[0])
                    watch.last_flip = now
                self._watches[(row.rule, int(row.subject.split(":", 1)[1]))] = watch
        return len(rows)

    # -- the ingest's hook -------------------------------------------------------------------------

    def readings(self, changes: list[tuple[StateKey, Latest]]) -> None:
        """Judge one batch of latest values (called on the ingest's loop; memory work only)."""
        for (device_id, quantity), latest in changes:
            device = self.devices(device_id)
            if device is None:
                continue
            for rule in self.rules_for(device, quantity):
                watch = self._watch(rule, device_id)
                verdict = judge(rule, watch, latest.value, latest.time, self.utc_offset_h)
                if verdict is not None:
                    self._emit(rule, device, verdict, latest.time)

    def health(self, changes: list[HealthChange]) -> None:
        """Judge device health changes against offline rules (storm-grouped under their root)."""
        now = datetime.now(UTC)
        for change in changes:
            device = change.device
            for rule in self.rules_for(device, None):
                if rule.condition != "offline":
                    continue
                bad = None
                if change.health in OFFLINE:
                    bad = Verdict("raise", rule.severity, None, f"{device.kind} {change.health.value}")
                watch = self._watch(rule, device.device_id)
                if bad is not None and not watch.active and self._root_held(device):
                    # Its root's alarm is still held: wait for it, to be raised under it, not beside it.
                    watch.pending_since, watch.pending = watch.pending_since or now, bad
                    watch.streak += 1  # a health change is one judgement, as a reading is (watch.settle)
                    continue
                verdict = settle(rule, watch, bad, now)
                if verdict is not None:
                    self._emit(rule, device, verdict, now)

    def _watch(self, rule: DeviceRule, device_id: int) -> Watch:
        key = (rule.name, device_id)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = Watch()
        return watch

    def _emit(self, rule: DeviceRule, device: Bound, verdict: Verdict, at: datetime) -> None:
        subject = f"device:{device.device_id}"
        if verdict.action == "clear":
            self._ops.append(("clear", (rule.name, subject, at)))
        else:
            parent = None
            if rule.condition == "offline":
                parent = self._root_of(device)
            data = {"flapping": False, **verdict.data, "escalate_after_min": rule.escalate_after_min}
            occurrence = Occurrence(
                rule.name, rule.condition, subject, device.path, verdict.severity, at, device.device_id,
                verdict.value, verdict.message, data, parent,
            )  # fmt: skip
            self._ops.append(("raise", occurrence))
        self._wake.set()

    def _root_of(self, device: Bound) -> tuple[str, str] | None:
        """Return the (rule, subject) of the offline alarm a device's silence is explained by, if any."""
        for name, root, watch in self._root_watches(device):
            if watch.active or watch.pending_since is not None:
                return name, f"device:{root}"
        return None

    def _root_held(self, device: Bound) -> bool:
        """Tell whether the offline alarm of a root of the device is pending its hold time (``for_s``)."""
        return any(not w.active and w.pending_since is not None for _, _, w in self._root_watches(device))

    def _root_watches(self, device: Bound) -> list[tuple[str, int, Watch]]:
        """Return (rule, root, watch) of the offline rules of the devices whose failure would silence it."""
        out = []
        for root in self.topology.roots(device):
            bound = self.devices(root)
            if bound is None:
                continue
            for rule in self.rules_for(bound, None):
                watch = self._watches.get((rule.name, root)) if rule.condition == "offline" else None
                if watch is not None:
                    out.append((rule.name, root, watch))
        return out

    # -- writing -----------------------------------------------------------------------------------

    async def _run_db(self, fn: Callable[..., object], *args: object) -> object:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def flush(self) -> None:
        """Write every pending raise and clear in one transaction; keep them if the database is away."""
        if not self._ops:
            return
        ops, self._ops = self._ops, []
        try:
            await self._run_db(self._apply, ops)
        except Exception:
            self._ops[:0] = ops  # never lose a condition: retried on the next wake or tick
            raise

    def _apply(self, ops: list[Op]) -> None:
        # Roots first, so that children raised in the same batch find their parent's row.
        ops = sorted(ops, key=lambda op: op[0] == "raise" and op[1].parent is not None)  # type: ignore[union-attr]
        with self._sessions() as session:
            if self.events is not None:
                self.events.bind(session)
            with session.begin():
                touched: list[tuple[str, str, datetime, bool]] = []
                for kind, item in ops:
                    if kind == "raise":
                        assert isinstance(item, Occurrence)
                        raise_alarm(session, item)
                        self.raised += 1
                        touched.append((item.rule, item.path, item.at, True))
                    else:
                        assert isinstance(item, tuple)
                        row = clear_condition(session, *item)
                        if row is not None:
                            self.cleared += 1
                            touched.append((item[0], row.path, item[2], False))
                judge_places(session, self.rules, touched)

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("alarms not written; retrying in %s s", self.tick_s)
                await asyncio.sleep(self.tick_s)
                self._wake.set()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.tick(datetime.now(UTC))
            try:
                await self._run_db(self._escalate, datetime.now(UTC))
            except Exception:
                log.exception("escalation check failed")

    def tick(self, now: datetime) -> None:
        """Raise held conditions whose hold time passed without a new reading; end quiet flapping holds."""
        for (name, device_id), watch in self._watches.items():
            if watch.pending_since is None and watch.held is None:
                continue
            rule = self.rules.by_name.get(name)
            if not isinstance(rule, DeviceRule):
                continue
            device = self.devices(device_id)
            if device is not None and rule.condition == "offline" and self._root_held(device):
                continue  # raised once its root is, grouped under it
            verdict = due(rule, watch, now)
            if verdict is not None and device is not None:
                self._emit(rule, device, verdict, now)

    def _escalate(self, now: datetime) -> None:
        with self._sessions() as session:
            if self.events is not None:
                self.events.bind(session)
            with session.begin():
                escalate_due(session, now)

    def counts(self) -> EngineCounts:
        """Return what was raised and cleared, and what waits to be written."""
        return EngineCounts(self.raised, self.cleared, len(self._ops))
