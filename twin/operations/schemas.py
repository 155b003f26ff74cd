"""The property's work as the API speaks it: XCreate / XUpdate / XPublic, never ORM rows.

Money travels as strings ("1234.50") in both directions, so no float ever touches an amount;
months as ``YYYY-MM``; times as ISO 8601 with their offset.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints, create_model

from twin.operations.catalogue import (
    BillingItem,
    BillingStatus,
    TicketCategory,
    TicketPriority,
    TicketStatus,
)
from twin.operations.money import MoneyError, parse_money, parse_period
from twin.schemas import Id, PathItem


class Strict(BaseModel):
    """Refuse unknown fields: a typo in a request is an error, not a silently ignored key."""

    model_config = ConfigDict(extra="forbid")


def _money_in(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('send amounts as strings ("1234.50") so they stay exact')
    try:
        return parse_money(str(value))
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


def _period_in(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("a month is written YYYY-MM")
    try:
        return parse_period(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


Money = Annotated[Decimal, BeforeValidator(_money_in), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
"""An exact amount in yuan with at most two decimals, never negative."""
Period = Annotated[date, BeforeValidator(_period_in), PlainSerializer(lambda d: d.strftime("%Y-%m"), return_type=str)]
"""A billing month, ``YYYY-MM``, held as its first day."""
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text4000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w./:#-]+$")]


# --- tickets


class TicketCreate(Strict):
    """A new ticket on a place (unit, space, floor, building) or a device: give exactly one."""

    place_id: Id | None = None
    device_id: Id | None = None
    category: TicketCategory
    priority: TicketPriority = TicketPriority.NORMAL
    title: Text200 | None = None
    description: Text4000
    alarm_id: Id | None = None


class TicketUpdate(Strict):
    """Correct a ticket's category, priority or text; a new category or priority re-computes the SLA."""

    category: TicketCategory | None = None
    priority: TicketPriority | None = None
    title: Text200 | None = None
    description: Text4000 | None = None


class TicketAssign(Strict):
    """Give the work to someone (a user who may work on tickets there)."""

    assignee: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class TicketTransition(Strict):
    """Move a ticket to another state of its workflow."""

    status: TicketStatus
    note: str | None = Field(default=None, max_length=2000)


class CommentCreate(Strict):
    """A comment on a ticket."""

    body: Text4000


class TicketPublic(BaseModel):
    """A ticket with where it is, its state and whether it is overdue."""

    id: int
    site_id: int
    place_id: int
    device_id: int | None
    path: list[PathItem]
    alarm_id: int | None
    source: str
    category: str
    priority: str
    status: str
    title: str
    description: str
    reporter: str
    assignee: str | None
    opened_at: datetime
    due_at: datetime
    overdue: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class TicketEventPublic(BaseModel):
    """One line of a ticket's history."""

    id: int
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    body: str | None
    data: dict[str, Any]


class PhotoPublic(BaseModel):
    """A stored photo of a ticket (fetch it at ``url``)."""

    id: int
    media_type: str
    size: int
    uploaded_by: str
    created_at: datetime
    url: str


class TicketDetail(TicketPublic):
    """A ticket with its full history (comments included) and its photos."""

    history: list[TicketEventPublic]
    photos: list[PhotoPublic]


class TicketPage(BaseModel):
    """One page of tickets; pass ``next`` as ``cursor`` for the following page."""

    items: list[TicketPublic]
    next: str | None


# --- billing


class ChargeCreate(Strict):
    """One charge, as one row of the ERP's export: the unit by id or by address."""

    site_id: Id
    reference: Reference
    unit_id: Id | None = None
    unit: str | None = Field(default=None, max_length=64, description="3-2-1801 or 3栋2单元1801室")
    period: Period
    item: BillingItem
    amount_due: Money
    due_date: date | None = None


class PaymentCreate(Strict):
    """Money received against a charge; its reference makes posting it twice harmless."""

    reference: Reference
    amount: Money
    paid_on: date


class PaymentPublic(BaseModel):
    """A payment of a charge."""

    id: int
    reference: str
    amount: Money
    paid_on: date
    source: str


class ChargePublic(BaseModel):
    """A charge with what was paid, what is left and its status today."""

    id: int
    reference: str
    unit_id: int
    period: Period
    item: BillingItem
    amount_due: Money
    amount_paid: Money
    outstanding: Money
    due_date: date
    status: BillingStatus
    overdue_days: int
    payments: list[PaymentPublic]


class UnitBilling(BaseModel):
    """A household's standing: its status, overdue days and amount, and its charges."""

    unit_id: int
    address: str | None
    account_no: str | None
    household: str | None
    """The owner's name, masked (张*丰) as everywhere personal data is shown without a reason."""
    status: BillingStatus
    overdue_days: int
    overdue_amount: Money
    outstanding: Money
    charges: list[ChargePublic] = []


class RefusedRow(BaseModel):
    """A row of an import that was not kept, and why."""

    row: int
    reference: str | None
    reason: str


class ImportReport(BaseModel):
    """What an import kept and what it refused; the good rows are kept whatever the bad ones say."""

    id: int | None
    file_name: str
    rows: int
    created: int
    updated: int
    unchanged: int
    refused: list[RefusedRow]


class RatePoint(BaseModel):
    """The payment rate of one place for one month: paid over due, exact."""

    place_id: int
    name: str
    period: Period
    amount_due: Money
    amount_paid: Money
    rate: Decimal | None
    households: int
    households_paid: int


class _TicketCountBase(BaseModel):
    place_id: int
    name: str
    overdue: int
    active: int


TicketCount = create_model(  # type: ignore[call-overload]
    "TicketCount",
    __base__=_TicketCountBase,
    __doc__="A building's or floor's tickets: how many in each status, overdue, and active.",
    **{status.value: (int, ...) for status in TicketStatus},
)
"""One field per status, from the vocabulary's own enum, so a new status is counted and declared at once."""


class TicketCounts(BaseModel):
    """Tickets counted per building or floor under a place."""

    items: list[TicketCount]
