"""Use cases of billing: a household's account, its charges and the payments against them.

A charge is known by the ERP's reference number, so posting or importing it again changes
nothing (or corrects its amounts) and never counts it twice. The paid amount an export states for
a row is one payment of that charge, *set* on every import, never added; payments posted through
the API carry their own references. What is paid never exceeds what is due: an overpayment is an
error in the export, not a credit this module invents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, principal_of
from twin.errors import NotFoundError, ValidationError
from twin.events import RegistryEvent, record
from twin.graph.addresses import parse_address
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.operations.billing_status import sees_bills, unit_statuses_of
from twin.operations.catalogue import BILLING_ITEMS, BillingItem
from twin.operations.money import month_end
from twin.operations.schemas import ChargeCreate, PaymentCreate
from twin.store.models import SiteRow, SpaceRow
from twin.store.operations import BillingAccountRow, ChargeRow, PaymentRow

Outcome = Literal["created", "updated", "unchanged"]


class RowRefused(ValueError):
    """A charge that breaks a rule; the message is the reason an import report gives."""


@dataclass(frozen=True, slots=True)
class ChargeInput:
    """One charge as read from a CSV row or an API body, its unit already found."""

    reference: str
    unit: SpaceRow
    period: date
    item: BillingItem
    amount_due: Decimal
    due_date: date | None = None
    amount_paid: Decimal | None = None
    """The cumulative paid amount an ERP export states; None when the source says nothing of payments."""
    paid_on: date | None = None


def _actor(session: Session) -> str:
    return str(session.info.get("actor") or "system")


def account_for(session: Session, unit: SpaceRow) -> BillingAccountRow:
    """Return a unit's account, opening it with the first charge."""
    account = session.scalar(select(BillingAccountRow).where(BillingAccountRow.unit_id == unit.id))
    if account is None:
        account = BillingAccountRow(site_id=unit.site_id, unit_id=unit.id, account_no=unit.address or str(unit.id))
        session.add(account)
        session.flush()
    return account


def _paid_elsewhere(session: Session, charge_id: int, reference: str) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentRow.amount), 0)).where(
            PaymentRow.charge_id == charge_id, PaymentRow.reference != reference
        )
    )
    return Decimal(total or 0)


def _describe(charge: ChargeRow, unit_id: int) -> str:
    return f"unit {unit_id}, {charge.period:%Y-%m}, {BILLING_ITEMS[BillingItem(charge.item)].zh}"


def upsert_charge(session: Session, site_id: int, data: ChargeInput, source: str) -> tuple[ChargeRow, Outcome]:
    """Create a charge, or bring the one with this reference up to date; refuse a reference reused for another."""
    if data.amount_paid is not None and data.amount_paid > 0 and data.paid_on is None:
        raise RowRefused(f"amount paid {data.amount_paid} has no paid date")
    charge = session.scalar(
        select(ChargeRow).where(ChargeRow.site_id == site_id, ChargeRow.reference == data.reference)
    )
    due_date = data.due_date or month_end(data.period)
    outcome: Outcome = "unchanged"
    if charge is None:
        account = account_for(session, data.unit)
        charge = ChargeRow(
            site_id=site_id,
            account_id=account.id,
            reference=data.reference,
            period=data.period,
            item=data.item.value,
            amount_due=data.amount_due,
            due_date=due_date,
            source=source,
        )
        session.add(charge)
        session.flush()
        outcome = "created"
    else:
        unit_id = session.scalar(select(BillingAccountRow.unit_id).where(BillingAccountRow.id == charge.account_id))
        if (unit_id, charge.period, charge.item) != (data.unit.id, data.period, data.item.value):
            raise RowRefused(
                f"reference {data.reference} already names another charge ({_describe(charge, unit_id or 0)})"
            )
        if (charge.amount_due, charge.due_date) != (data.amount_due, due_date):
            charge.amount_due, charge.due_date = data.amount_due, due_date
            outcome = "updated"
    if data.amount_paid is not None:
        paid = data.amount_paid + _paid_elsewhere(session, charge.id, data.reference)
        if paid > charge.amount_due:
            raise RowRefused(f"amount paid {paid} exceeds amount due {charge.amount_due}")
        if _set_import_payment(session, charge, data) and outcome == "unchanged":
            outcome = "updated"
    return charge, outcome


def _set_import_payment(session: Session, charge: ChargeRow, data: ChargeInput) -> bool:
    """Make the charge's imported payment say what the export says; tell whether anything changed."""
    payment = session.scalar(
        select(PaymentRow).where(PaymentRow.charge_id == charge.id, PaymentRow.reference == charge.reference)
    )
    amount = data.amount_paid or Decimal(0)
    if amount == 0:
        if payment is None:
            return False
        session.delete(payment)
        return True
    if payment is not None:
        if (payment.amount, payment.paid_on) == (amount, data.paid_on):
            return False
        payment.amount, payment.paid_on = amount, data.paid_on or payment.paid_on
        return True
    session.add(
        PaymentRow(
            charge_id=charge.id,
            reference=charge.reference,
            amount=amount,
            paid_on=data.paid_on,
            source="import",
            recorded_by=_actor(session),
        )
    )
    return True


def find_unit(session: Session, site_id: int, unit_id: int | None, address: str | None) -> SpaceRow:
    """Find a household unit of a site by id or by address (3-2-1801, 3栋2单元1801室), in the caller's scope."""
    if (unit_id is None) == (address is None):
        raise ValidationError("unit", "give exactly one of unit_id and unit (its address)")
    if unit_id is not None:
        unit = get_place(session, SpaceRow, unit_id, "unit")
    else:
        parsed = parse_address(address or "")
        if parsed is None:
            raise ValidationError("unit", f"{address!r} is not a unit address such as 3-2-1801 or 3栋2单元1801室")
        found = session.scalar(
            select(SpaceRow).where(
                SpaceRow.site_id == site_id, SpaceRow.address == parsed.normal, SpaceRow.retired_at.is_(None)
            )
        )
        if found is None:
            raise NotFoundError(f"unit {parsed.normal} not found in site {site_id}")
        unit = get_place(session, SpaceRow, found.id, "unit")
    if unit.site_id != site_id or unit.space_kind != "unit":
        raise ValidationError("unit", f"space {unit.id} is not a household unit of site {site_id}")
    return unit


def announce_units(session: Session, units: list[SpaceRow]) -> None:
    """Record a ``billing`` event per unit with its standing now, for the view's billing layer."""
    statuses = unit_statuses_of(session, [unit.id for unit in units])
    for unit in units:
        standing = statuses[unit.id]
        data = {
            "status": standing.status.value,
            "overdue_days": standing.overdue_days,
            "overdue_amount": f"{standing.overdue_amount:.2f}",
        }
        record(session, RegistryEvent("update", "billing", unit.id, scopes(unit.path), data))


def post_charge(session: Session, data: ChargeCreate) -> tuple[ChargeRow, Outcome]:
    """Post one charge through the API (finance): created, corrected, or already there."""
    site = get_place(session, SiteRow, data.site_id, "site")
    unit = find_unit(session, site.id, data.unit_id, data.unit)
    check_allowed(session, Permission.BILLING_WRITE, unit.path, f"unit {unit.id}")
    before_row = session.scalar(
        select(ChargeRow).where(ChargeRow.site_id == site.id, ChargeRow.reference == data.reference)
    )
    before = snapshot(before_row) if before_row is not None else None
    inp = ChargeInput(data.reference, unit, data.period, data.item, data.amount_due, data.due_date)
    try:
        charge, outcome = upsert_charge(session, site.id, inp, "api")
    except RowRefused as exc:
        raise ValidationError("reference", str(exc)) from exc
    session.flush()
    if outcome != "unchanged":
        audit(
            session,
            action=f"charge.{outcome[:-1]}",
            kind="charge",
            object_id=charge.id,
            before=before,
            after=snapshot(charge),
        )
        announce_units(session, [unit])
    return charge, outcome


def get_charge(session: Session, charge_id: int) -> tuple[ChargeRow, SpaceRow]:
    """Load a charge and its unit, if the caller may see the unit's bills."""
    charge = session.get(ChargeRow, charge_id)
    unit = None
    if charge is not None:
        unit_id = session.scalar(select(BillingAccountRow.unit_id).where(BillingAccountRow.id == charge.account_id))
        unit = session.get(SpaceRow, unit_id)
    if charge is None or unit is None or not sees_bills(principal_of(session), unit.path):
        raise NotFoundError(f"charge {charge_id} not found")
    return charge, unit


def post_payment(session: Session, charge_id: int, data: PaymentCreate) -> tuple[PaymentRow, bool]:
    """Record money received; the same reference posted again returns the first payment (False: not new)."""
    charge, unit = get_charge(session, charge_id)
    check_allowed(session, Permission.BILLING_WRITE, unit.path, f"charge {charge.id}")
    existing = session.scalar(
        select(PaymentRow).where(PaymentRow.charge_id == charge.id, PaymentRow.reference == data.reference)
    )
    if existing is not None:
        if (existing.amount, existing.paid_on) != (data.amount, data.paid_on):
            raise ValidationError(
                "reference", f"payment {data.reference} of charge {charge.id} was posted with other amounts"
            )
        return existing, False
    if data.amount == 0:
        raise ValidationError("amount", "a payment is more than 0.00")
    outstanding = charge.amount_due - _paid_elsewhere(session, charge.id, data.reference)
    if data.amount > outstanding:
        raise ValidationError(
            "amount", f"{data.amount} exceeds what is outstanding on charge {charge.id} ({outstanding})"
        )
    row = PaymentRow(
        charge_id=charge.id,
        reference=data.reference,
        amount=data.amount,
        paid_on=data.paid_on,
        source="api",
        recorded_by=_actor(session),
    )
    session.add(row)
    session.flush()
    audit(session, action="payment.create", kind="payment", object_id=row.id, after=snapshot(row))
    announce_units(session, [unit])
    return row, True
