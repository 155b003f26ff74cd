"""Read-only questions about bills: one household in full, every household under a place, payment rates.

The payment rate (收缴率) of a place for a month is what was paid of that month's charges over
what was due, summed exactly in NUMERIC by PostgreSQL and divided once, so a site's rate is the
same number whether it is asked for directly or summed from its buildings. Names of households
are shown masked (张*丰), as everywhere personal data is shown without a stated reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.auth.pii import PiiKey, mask_name
from twin.auth.scope import principal_of
from twin.errors import NotFoundError, ValidationError
from twin.graph.places import get_place
from twin.operations.billing_status import (
    ZERO,
    Standing,
    bill_condition,
    charge_lines,
    paid_of_charge,
    sees_bills,
    unit_statuses_of,
)
from twin.operations.catalogue import BillingItem, BillingStatus
from twin.operations.money import ratio, today_cst
from twin.operations.schemas import ChargePublic, PaymentPublic, RatePoint, UnitBilling
from twin.store.models import PlaceRow, SpaceRow
from twin.store.operations import BillingAccountRow, ChargeRow, PaymentRow
from twin.store.security import ResidentRow

Level = Literal["site", "building", "floor"]
DEPTH: dict[Level, int] = {"site": 0, "building": 1, "floor": 2}


def households(session: Session, unit_ids: Sequence[int], key: PiiKey | None) -> dict[int, str]:
    """Return each unit's household name (its owner first), masked; nothing without the key."""
    if key is None or not unit_ids:
        return {}
    out: dict[int, str] = {}
    rows = session.execute(
        select(ResidentRow.unit_id, ResidentRow.name_enc)
        .where(ResidentRow.unit_id.in_(list(unit_ids)))
        .order_by(ResidentRow.unit_id, ResidentRow.relation != "owner", ResidentRow.id)
    )
    for unit_id, name_enc in rows:
        if unit_id not in out:
            out[unit_id] = mask_name(key.decrypt(name_enc))
    return out


def _unit_public(unit: SpaceRow, account_no: str | None, household: str | None, standing: Standing) -> UnitBilling:
    return UnitBilling(
        unit_id=unit.id,
        address=unit.address,
        account_no=account_no,
        household=household,
        status=standing.status,
        overdue_days=standing.overdue_days,
        overdue_amount=standing.overdue_amount,
        outstanding=standing.outstanding,
    )


def unit_billing(
    session: Session, unit_id: int, key: PiiKey | None, period: date | None = None, today: date | None = None
) -> UnitBilling:
    """Return a household's standing with each charge, its payments and status (404 for who may not see bills)."""
    unit = get_place(session, SpaceRow, unit_id, "unit")
    if unit.space_kind != "unit" or not sees_bills(principal_of(session), unit.path):
        raise NotFoundError(f"unit {unit_id} has no bills you may see")
    today = today or today_cst()
    account_no = session.scalar(select(BillingAccountRow.account_no).where(BillingAccountRow.unit_id == unit.id))
    lines = charge_lines(session, [unit.id], period)
    payments: dict[int, list[PaymentPublic]] = {}
    charge_ids = [line.ChargeRow.id for line in lines]
    if charge_ids:
        for p in session.scalars(
            select(PaymentRow).where(PaymentRow.charge_id.in_(charge_ids)).order_by(PaymentRow.paid_on, PaymentRow.id)
        ):
            payments.setdefault(p.charge_id, []).append(PaymentPublic.model_validate(p, from_attributes=True))
    standing = Standing()
    charges = []
    for line in lines:
        c: ChargeRow = line.ChargeRow
        paid = Decimal(line.paid)
        status, days = standing.add(c.amount_due, paid, c.due_date, today)
        charges.append(
            ChargePublic(
                id=c.id,
                reference=c.reference,
                unit_id=unit.id,
                period=c.period,
                item=BillingItem(c.item),
                amount_due=c.amount_due,
                amount_paid=paid,
                outstanding=max(c.amount_due - paid, ZERO),
                due_date=c.due_date,
                status=status,
                overdue_days=days,
                payments=payments.get(c.id, []),
            )
        )
    public = _unit_public(unit, account_no, households(session, [unit.id], key).get(unit.id), standing)
    public.charges = charges
    return public


def unit_statuses(
    session: Session,
    under: int,
    key: PiiKey | None,
    period: date | None = None,
    status: BillingStatus | None = None,
    today: date | None = None,
) -> list[UnitBilling]:
    """Return the standing of every household unit under a place (the view's billing layer)."""
    place = get_place(session, PlaceRow, under, "place")
    units = list(
        session.scalars(
            select(SpaceRow)
            .where(
                SpaceRow.path.op("<@")(func.text2ltree(place.path)),
                SpaceRow.space_kind == "unit",
                SpaceRow.retired_at.is_(None),
                bill_condition(session, SpaceRow.path),
            )
            .order_by(SpaceRow.address, SpaceRow.id)
        )
    )
    ids = [unit.id for unit in units]
    standings = unit_statuses_of(session, ids, period, today)
    query = select(BillingAccountRow.unit_id, BillingAccountRow.account_no).where(BillingAccountRow.unit_id.in_(ids))
    accounts = dict(session.execute(query).all()) if ids else {}
    names = households(session, ids, key)
    out = [_unit_public(u, accounts.get(u.id), names.get(u.id), standings[u.id]) for u in units]
    return [u for u in out if status is None or u.status is status]


def payment_rates(session: Session, under: int, by: Level, first: date, last: date) -> list[RatePoint]:
    """Return the payment rate of each site, building or floor under a place, month by month."""
    if by not in DEPTH:
        raise ValidationError("by", "must be site, building or floor")
    if first > last:
        raise ValidationError("from", "the first month comes after the last")
    place = get_place(session, PlaceRow, under, "place")
    depth = DEPTH[by]
    per_household = (
        select(
            ChargeRow.period,
            PlaceRow.path,
            func.sum(ChargeRow.amount_due).label("due"),
            func.sum(func.least(paid_of_charge(), ChargeRow.amount_due)).label("paid"),
        )
        .join(BillingAccountRow, BillingAccountRow.id == ChargeRow.account_id)
        .join(PlaceRow, PlaceRow.id == BillingAccountRow.unit_id)
        .where(
            PlaceRow.path.op("<@")(func.text2ltree(place.path)),
            bill_condition(session, PlaceRow.path),
            ChargeRow.period.between(first, last),
        )
        .group_by(ChargeRow.period, ChargeRow.account_id, PlaceRow.path)
        .subquery()
    )
    group = func.ltree2text(func.subpath(per_household.c.path, depth, 1)).label("place")
    rows = session.execute(
        select(
            per_household.c.period,
            group,
            func.sum(per_household.c.due).label("due"),
            func.sum(per_household.c.paid).label("paid"),
            func.count().label("households"),
            func.count().filter(per_household.c.paid >= per_household.c.due).label("households_paid"),
        )
        .where(func.nlevel(per_household.c.path) > depth)
        .group_by(per_household.c.period, group)
    ).all()
    ids = {int(row.place) for row in rows}
    names = dict(session.execute(select(PlaceRow.id, PlaceRow.name).where(PlaceRow.id.in_(ids))).all())
    return [
        RatePoint(
            place_id=int(row.place),
            name=names.get(int(row.place), "?"),
            period=row.period,
            amount_due=row.due,
            amount_paid=row.paid,
            rate=ratio(row.paid, row.due),
            households=row.households,
            households_paid=row.households_paid,
        )
        for row in sorted(rows, key=lambda r: (int(r.place), r.period))
    ]


def payment_rate_per_building(session: Session, site_id: int, period: date) -> dict[int, Decimal | None]:
    """Return each building's payment rate for one month (the wall display's counters)."""
    return {p.place_id: p.rate for p in payment_rates(session, site_id, "building", period, period)}
