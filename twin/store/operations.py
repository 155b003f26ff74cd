"""Tables of the property's work: repair tickets, billing accounts and inspection rounds.

A ticket keeps its location path (an ltree) so that "every open ticket under building 3" is one
indexed query; the migration adds triggers that re-path a ticket when its place or device moves,
so the path never goes stale. Billing rows keep no path: an account hangs on one unit, and a
unit's path is read through it. Money is ``NUMERIC(12, 2)``: exact fen, never a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store.base import Base, Timestamped
from twin.store.ltree import LTree

MONEY = Numeric(12, 2)


class TicketRow(Timestamped, Base):
    """A repair ticket (工单) on a place or a device, with its workflow state and SLA due time."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    """The unit or space the ticket is about; for a device, the place the device hangs in."""
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(LTree())
    alarm_id: Mapped[int | None] = mapped_column(BigInteger)
    """The alarm it was opened from; no foreign key until the alarms table exists."""
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    reporter: Mapped[str] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the ticket was opened, or last reopened: its SLA runs from here."""
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status IN ('open', 'assigned', 'in_progress', 'resolved', 'closed')", name="status"),
        CheckConstraint("priority IN ('urgent', 'high', 'normal', 'low')", name="priority"),
        CheckConstraint("source IN ('operator', 'alarm', 'app', 'inspection')", name="source"),
        Index("ix_tickets_path", "path", postgresql_using="gist"),
        Index("ix_tickets_site_status", "site_id", "status"),
        Index("ix_tickets_place", "place_id"),
        Index("ix_tickets_device", "device_id"),
        Index("ix_tickets_alarm", "alarm_id"),
        Index("ix_tickets_assignee", "assignee_id"),
    )


class TicketEventRow(Base):
    """One line of a ticket's history: created, a status change, an assignment, a comment, a photo."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'status', 'assigned', 'comment', 'photo', 'updated')", name="kind"),
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
    )


class TicketPhotoRow(Base):
    """A photo of a ticket, stored under the server's home by a generated name (never the client's)."""

    __tablename__ = "ticket_photos"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (Index("ix_ticket_photos_ticket", "ticket_id"),)


class BillingAccountRow(Base):
    """A household's account: one per unit, opened when its first charge arrives."""

    __tablename__ = "billing_accounts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"), unique=True)
    account_no: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChargeRow(Timestamped, Base):
    """What a household owes for one item of one month, known by the ERP's reference number."""

    __tablename__ = "billing_charges"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_accounts.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(64))
    period: Mapped[date] = mapped_column(Date)
    """The first day of the month billed."""
    item: Mapped[str] = mapped_column(String(32))
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    due_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))
    __table_args__ = (
        UniqueConstraint("site_id", "reference", name="uq_billing_charges_site_reference"),
        CheckConstraint("amount_due >= 0", name="amount_due"),
        CheckConstraint("source IN ('import', 'api')", name="source"),
        CheckConstraint("extract(day FROM period) = 1", name="period_month"),
        Index("ix_billing_charges_account_period", "account_id", "period"),
        Index("ix_billing_charges_site_period", "site_id", "period"),
    )


class PaymentRow(Base):
    """Money received against a charge; an imported row's paid amount is one payment, set, never added."""

    __tablename__ = "billing_payments"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("billing_charges.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        UniqueConstraint("charge_id", "reference", name="uq_billing_payments_charge_reference"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("source IN ('import', 'api')", name="source"),
    )


class BillingImportRow(Base):
    """One CSV import and its report (rows kept and rows refused, with their reasons)."""

    __tablename__ = "billing_imports"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)


class InspectionPlanRow(Timestamped, Base):
    """What to inspect under a place (devices of some kinds, or named spaces) and how often."""

    __tablename__ = "inspection_plans"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    every: Mapped[str] = mapped_column(String(8))
    device_kinds: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    space_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    checklist: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    minutes_per_stop: Mapped[float] = mapped_column(Float, default=5.0)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (
        CheckConstraint("every IN ('day', 'week', 'month', 'quarter', 'year')", name="every"),
        CheckConstraint("device_kinds IS NOT NULL OR space_ids IS NOT NULL", name="targets"),
        CheckConstraint("minutes_per_stop >= 0", name="minutes"),
        Index("ix_inspection_plans_site", "site_id"),
    )


class InspectionRoundRow(Base):
    """A round planned for one inspector within a time budget, and how it went."""

    __tablename__ = "inspection_rounds"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    planned_by: Mapped[str] = mapped_column(String(100))
    budget_minutes: Mapped[float] = mapped_column(Float)
    start_space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    planned_length: Mapped[float] = mapped_column(Float)
    planned_minutes: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'in_progress', 'done')", name="status"),
        Index("ix_inspection_rounds_inspector", "inspector_id", "status"),
    )


class InspectionStopRow(Base):
    """One planned stop of a round, in walking order, and why it was chosen."""

    __tablename__ = "inspection_stops"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    leg_length: Mapped[float] = mapped_column(Float)
    leg: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    """The spaces walked through from the previous stop (or the start), both ends included."""
    __table_args__ = (
        UniqueConstraint("round_id", "seq", name="uq_inspection_stops_round_seq"),
        CheckConstraint("reason IN ('overdue', 'attention', 'due')", name="reason"),
    )


class InspectionVisitRow(Base):
    """A recorded inspection of one target: when, by whom, ok or a defect (which opened a ticket)."""

    __tablename__ = "inspection_visits"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    """Where the inspector stood; the target itself when the plan names spaces."""
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="RESTRICT"))
    stop_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_stops.id", ondelete="RESTRICT"), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inspector: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The key the handheld generated for this result: the same key sent again is this visit, not another."""
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'defect')", name="outcome"),
        CheckConstraint("outcome = 'defect' OR ticket_id IS NULL", name="ticket_on_defect"),
        Index("ix_inspection_visits_target", "plan_id", "device_id", "space_id", "at"),
        Index("ix_inspection_visits_round", "round_id"),
    )
