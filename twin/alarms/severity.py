"""Alarm severities and states, declared once with their labels and the colour the view paints.

The API, the database's check constraints, the legend and the notifiers read these lists (the
NetBox ``choices`` habit). Severities are ordered: a worsening condition moves an alarm up, never
down, while it stays open.
"""

from __future__ import annotations

from enum import StrEnum

from twin.catalogue import Label


class AlarmSeverity(StrEnum):
    """How urgent an alarm is, from a life-safety emergency down to a hint."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """Return the order of urgency: CRITICAL is 4, WARNING is 1."""
        return _RANK[self]

    def raised(self, steps: int = 1) -> AlarmSeverity:
        """Return the severity ``steps`` levels more urgent (CRITICAL stays CRITICAL)."""
        target = min(4, self.rank + steps)
        return next(s for s, r in _RANK.items() if r == target)


_RANK = {AlarmSeverity.CRITICAL: 4, AlarmSeverity.MAJOR: 3, AlarmSeverity.MINOR: 2, AlarmSeverity.WARNING: 1}

SEVERITIES: dict[AlarmSeverity, Label] = {
    AlarmSeverity.CRITICAL: Label("紧急", "Critical", "#d00000"),
    AlarmSeverity.MAJOR: Label("重要", "Major", "#f48c06"),
    AlarmSeverity.MINOR: Label("次要", "Minor", "#ffba08"),
    AlarmSeverity.WARNING: Label("提示", "Warning", "#3f88c5"),
}


class AlarmState(StrEnum):
    """Where an alarm is in its life: raised → acknowledged → cleared → closed."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    CLOSED = "closed"


STATES: dict[AlarmState, Label] = {
    AlarmState.RAISED: Label("未确认", "Raised", "#d00000"),
    AlarmState.ACKNOWLEDGED: Label("已确认", "Acknowledged", "#f48c06"),
    AlarmState.CLEARED: Label("已恢复", "Cleared", "#2a9d8f"),
    AlarmState.CLOSED: Label("已关闭", "Closed", "#adb5bd"),
}

OPEN_STATES = (AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.CLEARED)
"""The states of an alarm still on the board; at most one such alarm per rule and subject."""

ACTIVE_STATES = (AlarmState.RAISED, AlarmState.ACKNOWLEDGED)
"""The states of an alarm whose condition still holds: what the counts, the wall and the 3D tints
count, and what the live hub holds (a cleared alarm waits on the board to be closed, but nobody
need go anywhere for it)."""
