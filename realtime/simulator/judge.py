"""Judge what the simulator says with a scene's own rules, as the live path would, without a broker or a store.

Why: whether a scene's rules and its devices' normal life agree is a question of days of traffic;
here a simulated day is judged in seconds (the soak of tests/scenes/test_simulator_rules.py and
bench/bench_soak.py).

Every message goes through the ingest's decoder and the scene's bindings; every reading goes to
the rules the live engine picks for its device (``RuleIndex.rules_for``: a rule naming the device
wins over its kind's) and through the same condition machines (``realtime.rules.watch``), hold
times and hysteresis included, judged by the reading's own time. Health goes through the ingest's
``HealthTracker`` on the same clock (a device heard, a gateway heard through what it relays, an
availability message, silence at each tick), and its changes through the ``offline`` rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from realtime.bindings import Bound, expected_interval
from realtime.decode import Decoder, Identity
from realtime.health import Gateway, HealthChange, HealthTracker
from realtime.message import ReceiveMessage
from realtime.profiles import load_profiles
from realtime.rules.engine import OFFLINE
from realtime.rules.index import RuleIndex
from realtime.rules.load import vocabulary
from realtime.rules.watch import Verdict, Watch, due, judge, settle
from realtime.simulator import SimMessage
from realtime.simulator.audit import binding_table
from twin.alarms.files import scene_rules
from twin.alarms.rules import DeviceRule, rule_set
from twin.scenes import Binding

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "scenes" / "profiles"
"""The project's vendor profiles, which the demo's bindings name."""


@dataclass(frozen=True, slots=True)
class Change:
    """An alarm raised or cleared: by which rule, for which device, when (epoch seconds), and the value."""

    action: str
    rule: str
    tag: str
    severity: str
    at: float
    value: float | None


@dataclass
class Judge:
    """The rules of a scene folder over the devices of its bindings."""

    folder: Path
    bindings: list[Binding]
    profiles: Path = PROFILES
    changes: list[Change] = field(default_factory=list)
    lowest: dict[tuple[str, str], float] = field(default_factory=dict)
    """The least value each (rule, tag) of a numeric ``below`` rule saw; ``highest`` for ``above``."""
    highest: dict[tuple[str, str], float] = field(default_factory=dict)
    judged: Counter[str] = field(default_factory=Counter)
    """Readings judged by each rule: a rule no reading reached proves nothing."""

    def __post_init__(self) -> None:
        """Read and check the rules as the server does, and index them as the live engine does."""
        tags = sorted(b.tag for b in self.bindings)
        devices, places = scene_rules(self.folder, vocabulary(set(tags)))
        self.ids = {tag: number for number, tag in enumerate(tags, start=1)}
        self.tags = {number: tag for tag, number in self.ids.items()}
        self.bound = {
            self.ids[b.tag]: Bound(
                self.ids[b.tag],
                b.kind.value,
                f"d{self.ids[b.tag]}",
                expected_interval(b.kind.value, None),
                self.ids.get(b.gateway) if b.gateway else None,
                "unknown",
                None,
            )
            for b in self.bindings
        }
        self.health = HealthTracker()
        self.rules = rule_set(devices, places)
        self.index = RuleIndex(self.rules, self.ids)
        profiles = load_profiles([self.profiles])
        self.decoder = Decoder(profiles)
        self.table = binding_table(self.bindings, profiles)
        self.watches: dict[tuple[str, int], Watch] = {}

    def feed(self, messages: list[SimMessage], received_at: float) -> None:
        """Decode each message as received at ``received_at`` (epoch) and judge each reading of a bound device."""
        for message in messages:
            result = self.decoder.decode(ReceiveMessage(message.topic, message.payload, 0, False, received_at))
            assert not result.rejects, result.rejects
            at = datetime.fromtimestamp(received_at, UTC)
            for item in result.availability:
                target: Gateway = self._bound(item.identity) or item.identity
                self._health(self.health.availability(target, item.online, at), at)
            for reading in result.readings:
                bound = self._bound(reading.identity)
                via = None if reading.via is None else self._bound(reading.via) or reading.via
                if bound is None:
                    if via is not None:
                        self._health(self.health.relayed(via, at), at)
                    continue
                self._health(self.health.seen(bound, at, via), at)
                tag, device = self.tags[bound.device_id], bound
                for rule in self.index.rules_for(device, reading.quantity):
                    self.judged[rule.name] += 1
                    self._extreme(rule, tag, reading.value)
                    watch = self.watches.setdefault((rule.name, device.device_id), Watch())
                    verdict = judge(rule, watch, reading.value, reading.time)
                    if verdict is not None:
                        self._note(verdict.action, rule, tag, verdict.severity.value, reading.time, verdict.value)

    def _bound(self, identity: Identity) -> Bound | None:
        tag = self.table.get(identity)
        return None if tag is None else self.bound[self.ids[tag]]

    def _health(self, changes: Iterable[HealthChange], at: datetime) -> None:
        """Judge health changes at ``at`` by the ``offline`` rules, as ``RuleEngine.health`` does (storms aside)."""
        for change in changes:
            for rule in self.index.rules_for(change.device, None):
                if rule.condition != "offline":
                    continue
                self.judged[rule.name] += 1
                bad = Verdict("raise", rule.severity) if change.health in OFFLINE else None
                watch = self.watches.setdefault((rule.name, change.device.device_id), Watch())
                verdict = settle(rule, watch, bad, at)
                if verdict is not None:
                    tag = self.tags[change.device.device_id]
                    self._note(verdict.action, rule, tag, verdict.severity.value, at, None)

    def tick(self, epoch: float) -> None:
        """Raise the held conditions whose hold time passed with no new reading, as the engine's tick does."""
        now = datetime.fromtimestamp(epoch, UTC)
        self._health(self.health.tick(now), now)
        for (name, device_id), watch in self.watches.items():
            rule = self.rules.by_name[name]
            assert isinstance(rule, DeviceRule)
            verdict = due(rule, watch, now)
            if verdict is not None:
                self._note(verdict.action, rule, self.tags[device_id], verdict.severity.value, now, verdict.value)

    def _extreme(self, rule: DeviceRule, tag: str, value: float | bool | str) -> None:
        if isinstance(value, bool | str) or rule.condition not in ("above", "below"):
            return
        key = (rule.name, tag)
        if rule.condition == "below":
            self.lowest[key] = min(self.lowest.get(key, value), value)
        else:
            self.highest[key] = max(self.highest.get(key, value), value)

    def _note(self, action: str, rule: DeviceRule, tag: str, severity: str, at: datetime, value: float | None) -> None:
        self.changes.append(Change(action, rule.name, tag, severity, at.timestamp(), value))

    def raised(self) -> list[Change]:
        """Return the raises, in order."""
        return [c for c in self.changes if c.action == "raise"]

    def still_open(self) -> set[tuple[str, str]]:
        """Return the (rule, tag) of every alarm raised and not cleared since."""
        open_: set[tuple[str, str]] = set()
        for change in self.changes:
            key = (change.rule, change.tag)
            if change.action == "raise":
                open_.add(key)
            else:
                open_.discard(key)
        return open_
