"""Which rules judge a device: the rule set indexed by kind and by device, most specific first.

Kept apart from the engine so that whatever judges traffic without writing alarms (the
simulator's judge, realtime/simulator/judge.py) picks rules exactly as the live engine does.
"""

from __future__ import annotations

from realtime.bindings import Bound
from twin.alarms.rules import ANY_KIND, DeviceRule, RuleSet


class RuleIndex:
    """The device rules of a rule set by (kind, quantity) and by (device, quantity)."""

    def __init__(self, rules: RuleSet, tags: dict[str, int]) -> None:
        """Index ``rules``; ``tags`` resolves the device a rule names by its tag."""
        self.rules = rules
        self._by_kind: dict[tuple[str, str | None], list[DeviceRule]] = {}
        self._by_device: dict[tuple[int, str | None], list[DeviceRule]] = {}
        for rule in rules.devices:
            key_q = None if rule.condition == "offline" else rule.quantity
            if rule.device is not None and rule.device in tags:
                self._by_device.setdefault((tags[rule.device], key_q), []).append(rule)
            elif rule.kind is not None:
                self._by_kind.setdefault((rule.kind, key_q), []).append(rule)

    def rules_for(self, device: Bound, quantity: str | None) -> list[DeviceRule]:
        """Return the rules that judge a device's quantity (None: its health): device over kind over ``*``."""
        chosen: dict[str, DeviceRule] = {}
        for source in (
            self._by_kind.get((ANY_KIND, quantity), []),
            self._by_kind.get((device.kind, quantity), []),
            self._by_device.get((device.device_id, quantity), []),
        ):
            for rule in source:
                chosen[rule.condition] = rule  # later, more specific sources override
        return list(chosen.values())
