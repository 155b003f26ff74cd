"""Where a household stands with its fees, and who may know it.

A charge is paid, partly paid, not yet due or overdue (with its days late); a household takes the
worst of its charges, and its overdue amount is what is left of its overdue charges. Bills are
seen by administrators, operators, finance clerks and viewers on their subtrees; responders,
inspectors and vendors never see them, and for them a bill does not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, cast, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from twin.auth.roles import SEES_BILLING
from twin.auth.scope import EVERYWHERE, Principal, principal_of, within
from twin.operations.catalogue import BillingStatus
from twin.operations.money import today_cst
from twin.store.operations import BillingAccountRow, ChargeRow, PaymentRow

ZERO = Decimal("0.00")


def sees_bills(principal: Principal | None, path: str) -> bool:
    """Tell whether a role that sees bills covers this place (always, for the system)."""
    if principal is None:
        return True
    return any(g.role in SEES_BILLING and within(path, g.path) for g in principal.grants)


def bill_condition(session: Session, path_column: Any) -> ColumnElement[bool]:
    """Return the SQL condition on a unit's path: bills this session may see."""
    principal = principal_of(session)
    if principal is None:
        return true()
    roots = [g.path for g in principal.grants if g.role in SEES_BILLING]
    if not roots:
        return false()
    if EVERYWHERE in roots:
        return true()
    return or_(*[path_column.op("<@")(func.text2ltree(root)) for root in roots])


def charge_status(due: Decimal, paid: Decimal, due_date: date, today: date) -> tuple[BillingStatus, int]:
    """Return a charge's status and, when overdue, how many days late it is."""
    if paid >= due:
        return BillingStatus.PAID, 0
    if today > due_date:
        return BillingStatus.OVERDUE, (today - due_date).days
    if paid > 0:
        return BillingStatus.PARTLY_PAID, 0
    return BillingStatus.UNPAID, 0


@dataclass
class Standing:
    """A household's standing: the worst status of its charges, overdue days and amounts."""

    status: BillingStatus = BillingStatus.NO_BILLS
    overdue_days: int = 0
    overdue_amount: Decimal = ZERO
    outstanding: Decimal = ZERO
    statuses: set[BillingStatus] = field(default_factory=set)

    def add(self, due: Decimal, paid: Decimal, due_date: date, today: date) -> tuple[BillingStatus, int]:
        """Take one charge into account; return its own status and days late."""
        status, days = charge_status(due, paid, due_date, today)
        self.statuses.add(status)
        left = max(due - paid, ZERO)
        self.outstanding += left
        if status is BillingStatus.OVERDUE:
            self.overdue_days = max(self.overdue_days, days)
            self.overdue_amount += left
        for worst in (BillingStatus.OVERDUE, BillingStatus.PARTLY_PAID, BillingStatus.UNPAID, BillingStatus.PAID):
            if worst in self.statuses:
                self.status = worst
                break
        return status, days


def paid_of_charge() -> Any:
    """Return what a charge (of the enclosing query's ``ChargeRow``) has received, as a correlated sum."""
    return (
        select(func.coalesce(func.sum(PaymentRow.amount), 0))
        .where(PaymentRow.charge_id == ChargeRow.id)
        .correlate(ChargeRow)
        .scalar_subquery()
    )


def charge_lines(session: Session, unit_ids: Iterable[int], period: date | None = None) -> Sequence[Any]:
    """Return each charge of these units with its unit and paid amount, in one query."""
    query = (
        select(BillingAccountRow.unit_id, ChargeRow, paid_of_charge().label("paid"))
        .join(BillingAccountRow, BillingAccountRow.id == ChargeRow.account_id)
        .where(BillingAccountRow.unit_id.in_(list(unit_ids)))
        .order_by(ChargeRow.period, ChargeRow.id)
    )
    if period is not None:
        query = query.where(ChargeRow.period == period)
    return session.execute(query).all()


def unit_statuses_of(
    session: Session, unit_ids: Sequence[int], period: date | None = None, today: date | None = None
) -> dict[int, Standing]:
    """Return the standing of each unit (every id present; NO_BILLS for a unit without charges).

    Plain columns, not rows: a floor's or a site's standing reads tens of thousands of charges.
    """
    today = today or today_cst()
    out = {unit_id: Standing() for unit_id in unit_ids}
    if not unit_ids:
        return out
    query = (
        select(BillingAccountRow.unit_id, ChargeRow.amount_due, ChargeRow.due_date, paid_of_charge())
        .join(BillingAccountRow, BillingAccountRow.id == ChargeRow.account_id)
        .where(BillingAccountRow.unit_id == any_(cast(list(unit_ids), ARRAY(BigInteger))))
    )
    if period is not None:
        query = query.where(ChargeRow.period == period)
    for unit_id, due, due_date, paid in session.execute(query):
        out[unit_id].add(due, paid, due_date, today)
    return out
