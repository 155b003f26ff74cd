"""Judge what the simulator says with a scene's own rules, as the live path would, without a broker or a store.

Every message goes through the ingest's decoder and the scene's bindings; every reading goes to
the rules the live engine picks for its device (``RuleEngine.rules_for``: a rule naming the device
wins over its kind's) and through the same condition machines (``realtime.rules.watch``), hold
times and hysteresis included, judged by the reading's own time. Health (``offline`` rules) is not
judged here: no ingest watches the silences.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from realtime.bindings import Bound
from realtime.decode import Decoder
from realtime.message import ReceiveMessage
from realtime.profiles import load_profiles
from realtime.rules.engine import RuleEngine
from realtime.rules.load import vocabulary
from realtime.rules.watch import Watch, due, judge
from realtime.simulator import SimMessage
from realtime.simulator.audit import binding_table
from twin.alarms.files import scene_rules
from twin.alarms.rules import DeviceRule, rule_set
from twin.scenes import Binding

ROOT = Path(__file__).resolve().parents[2]
PROFILES = load_profiles([ROOT / "scenes" / "profiles"])


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
            self.ids[b.tag]: Bound(self.ids[b.tag], b.kind.value, f"d{self.ids[b.tag]}", 600.0, None, "online", None)
            for b in self.bindings
        }
        self.engine = RuleEngine(rule_set(devices, places), create_engine("sqlite://"), self.bound.get, tags=self.ids)
        self.decoder = Decoder(PROFILES)
        self.table = binding_table(self.bindings, PROFILES)
        self.watches: dict[tuple[str, int], Watch] = {}

    def feed(self, messages: list[SimMessage], received_at: float) -> None:
        """Decode each message as received at ``received_at`` (epoch) and judge each reading of a bound device."""
        for message in messages:
            result = self.decoder.decode(ReceiveMessage(message.topic, message.payload, 0, False, received_at))
            assert not result.rejects, result.rejects
            for reading in result.readings:
                tag = self.table.get(reading.identity)
                if tag is None:
                    continue
                device = self.bound[self.ids[tag]]
                for rule in self.engine.rules_for(device, reading.quantity):
                    self.judged[rule.name] += 1
                    self._extreme(rule, tag, reading.value)
                    watch = self.watches.setdefault((rule.name, device.device_id), Watch())
                    verdict = judge(rule, watch, reading.value, reading.time)
                    if verdict is not None:
                        self._note(verdict.action, rule, tag, verdict.severity.value, reading.time, verdict.value)

    def tick(self, epoch: float) -> None:
        """Raise the held conditions whose hold time passed with no new reading, as the engine's tick does."""
        now = datetime.fromtimestamp(epoch, UTC)
        for (name, device_id), watch in self.watches.items():
            rule = self.engine.rules.by_name[name]
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
