"""A verdict: what a reading (or a tick) means for an alarm, as the machines hand it to the engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.alarms.severity import AlarmSeverity


@dataclass(frozen=True, slots=True)
class Verdict:
    """Raise an alarm (at a severity, with what to show) or clear it."""

    action: str
    """``raise`` or ``clear``."""
    severity: AlarmSeverity = AlarmSeverity.WARNING
    value: float | None = None
    message: str = ""
    data: dict[str, object] = field(default_factory=dict)
