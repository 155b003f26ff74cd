"""What the alarms API takes and gives: requests strict, answers plain (never the ORM row)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from twin.operations.catalogue import TicketCategory, TicketPriority
from twin.store.alarms import AlarmRow


class Strict(BaseModel):
    """Refuse unknown fields: a typo in a request is an error, not a silently ignored key."""

    model_config = ConfigDict(extra="forbid")


class AlarmNote(Strict):
    """An optional note with an acknowledgement, a clear or a close."""

    note: str | None = Field(default=None, max_length=2000)


class AlarmAssign(Strict):
    """Give the alarm to someone who may handle alarms there."""

    assignee: str = Field(min_length=1, max_length=64)


class AlarmTicket(Strict):
    """Open a repair ticket from an alarm."""

    category: TicketCategory
    priority: TicketPriority = TicketPriority.HIGH
    description: str | None = Field(default=None, min_length=1, max_length=4000)


class RuleCreate(Strict):
    """A rule declared by an admin: the same keys as in a scene's alarms.toml."""

    type: str = Field(default="device", pattern="^(device|place)$")
    spec: dict[str, Any]


class AlarmPublic(BaseModel):
    """An alarm as the API shows it."""

    id: int
    rule: str
    subject: str
    condition: str
    severity: str
    state: str
    site_id: int
    place_id: int
    device_id: int | None
    path: str
    households: list[int]
    message: str
    value: float | None
    data: dict[str, Any]
    parent_id: int | None
    children: int = 0
    occurrences: int
    first_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    assignee_id: int | None
    escalations: int
    escalated_at: datetime | None
    ticket_id: int | None

    @classmethod
    def of(cls, row: AlarmRow, children: int = 0) -> AlarmPublic:
        """Build the public form of a row."""
        fields = {name: getattr(row, name) for name in cls.model_fields if name != "children"}
        fields["households"] = list(row.households or [])
        return cls(**fields, children=children)
