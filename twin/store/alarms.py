"""Tables of alarms and of the rules declared through the API.

An alarm is *open* until it is closed: raised, acknowledged or cleared. Exactly one open alarm
exists per (rule, subject), and the database guarantees it with a partial unique index, so two
ingest instances (or a restarted one) that see the same condition converge on one row through
``INSERT … ON CONFLICT`` instead of trusting in-process bookkeeping (ThingsBoard #2986). A
subject is ``device:<id>`` for a device rule and ``place:<id>`` for a place rule. The alarm keeps
its location path (ltree) and the households it affects, so lists by subtree are one indexed
query and the wall display never recomputes the topology.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store import models, operations, security  # noqa: F401  (the tables referred to)
from twin.store.base import Base, Timestamped
from twin.store.ltree import LTree

OPEN = "state <> 'closed'"
"""The predicate of the one-open-alarm index; ``ON CONFLICT`` must name it word for word."""


class AlarmRow(Base):
    """One alarm: a condition of a rule on a device or a place, from raised to closed."""

    __tablename__ = "alarms"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(40))
    condition: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(LTree())
    households: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="raised")
    message: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id", ondelete="SET NULL"))
    """The root alarm this one is grouped under (a gateway's, a floor's power) in a storm."""
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    ack_note: Mapped[str | None] = mapped_column(Text)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by: Mapped[str | None] = mapped_column(String(100))
    """Who cleared it by hand; None when the condition cleared by itself."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    __table_args__ = (
        CheckConstraint("state IN ('raised', 'acknowledged', 'cleared', 'closed')", name="state"),
        CheckConstraint("severity IN ('critical', 'major', 'minor', 'warning')", name="severity"),
        Index("uq_alarms_open", "rule", "subject", unique=True, postgresql_where=text(OPEN)),
        Index("ix_alarms_path", "path", postgresql_using="gist"),
        Index("ix_alarms_site_state", "site_id", "state"),
        Index("ix_alarms_device", "device_id", "first_at"),
        Index("ix_alarms_parent", "parent_id"),
        Index("ix_alarms_last", "last_at"),
    )


class AlarmRuleRow(Timestamped, Base):
    """A rule declared through the API (scene rules stay in their files): its spec as the API took it."""

    __tablename__ = "alarm_rules"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
