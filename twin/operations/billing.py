"""Use cases of billing through the API: post a charge, post a payment, find a unit, announce standings.

A charge is known by the ERP's reference number, so posting it again changes nothing (or
corrects its amounts) and never counts it twice (the rules are in ``charges``, shared with the
CSV import). Payments posted through the API carry their own references, so posting one twice is
harmless too. What is paid never exceeds what is due: an overpayment is an error, not a credit
this module invents.
"""

from __future__ import annotations

from sqlalchemy import select
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
from twin.operations.charges import ChargeBatch, ChargeInput, Outcome, RowRefused, paid_elsewhere
from twin.operations.schemas import ChargeCreate, PaymentCreate
from twin.store.models import SiteRow, SpaceRow
from twin.store.operations import BillingAccountRow, ChargeRow, PaymentRow


def _actor(session: Session) -> str:
    return str(session.info.get("actor") or "system")


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
    known = session.scalar(select(ChargeRow).where(ChargeRow.site_id == site.id, ChargeRow.reference == data.reference))
    before = snapshot(known) if known is not None else None
    batch = ChargeBatch(session, site.id, "api")
    batch.load([data.reference], [unit.id])
    try:
        outcome = batch.add(ChargeInput(data.reference, unit, data.period, data.item, data.amount_due, data.due_date))
    except RowRefused as exc:
        raise ValidationError("reference", str(exc)) from exc
    new_ids = batch.write(_actor(session))
    charge = session.get(ChargeRow, new_ids.get(data.reference) or (known.id if known else 0))
    if charge is None:
        raise NotFoundError(f"charge {data.reference} not found")
    if outcome != "unchanged":
        session.refresh(charge)
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


def get_charge(session: Session, charge_id: int, *, lock: bool = False) -> tuple[ChargeRow, SpaceRow]:
    """Load a charge and its unit, if the caller may see the unit's bills.

    ``lock`` for a payment: the charge is read ``FOR UPDATE`` before anything is audited (see
    ``twin.audit``), so two payments racing for what is outstanding are checked one after the other.
    """
    charge = session.get(ChargeRow, charge_id, with_for_update=True if lock else None, populate_existing=lock)
    unit = None
    if charge is not None:
        unit_id = session.scalar(select(BillingAccountRow.unit_id).where(BillingAccountRow.id == charge.account_id))
        unit = session.get(SpaceRow, unit_id)
    if charge is None or unit is None or not sees_bills(principal_of(session), unit.path):
        raise NotFoundError(f"charge {charge_id} not found")
    return charge, unit


def post_payment(session: Session, charge_id: int, data: PaymentCreate) -> tuple[PaymentRow, bool]:
    """Record money received; the same reference posted again returns the first payment (False: not new)."""
    charge, unit = get_charge(session, charge_id, lock=True)
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
    outstanding = charge.amount_due - paid_elsewhere(session, charge.id, data.reference)
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
