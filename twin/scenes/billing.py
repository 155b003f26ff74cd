"""Monthly fees of a generated community, and how their collection climbs over a year.

A new property company typically collects under 70% of its fees in its first months and, as
services and follow-up improve, around 95% a year later. Each household gets a fixed willingness
to pay; a month's collection target decides which households pay, so the same ones pay month
after month and the payers only grow (the months before a household started paying stay owed:
arrears). Just above the target some pay part of the property fee and none of the rest. A few
payers pay half the property fee first and the rest the month after, so the month just billed,
not yet due, holds partly paid households with no arrears. Fees fall due at the end of the month
after the one billed (次月底前缴清), the export's 缴费期限 column.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from twin.operations.catalogue import BILLING_ITEMS, BillingItem

FIRST_RATE, LAST_RATE = 0.64, 0.95
PARTIAL_BAND = 0.04
"""Households within this much above the month's target pay part of their property fee."""
SHORT_SHARE = 0.05
"""Of the month's payers, this share pays half the property fee first and the rest a month later."""
ITEMS = ((BillingItem.PROPERTY_FEE, "WY", Decimal("2.80")), (BillingItem.SHARED_UTILITIES, "NH", Decimal("0.35")))
"""Item, reference code and monthly price per square metre of the fees every unit pays."""
PARKING = (BillingItem.PARKING, "CW", Decimal("150.00"))
PARKING_SHARE = 0.45


@dataclass(frozen=True, slots=True)
class Bill:
    """One line of a property ERP's export: one fee of one unit for one month."""

    reference: str
    unit: str
    period: str
    """The month billed, YYYY-MM."""
    item: str
    """The item's Chinese name, as the ERP prints it and the billing import reads it (物业费)."""
    amount_due: Decimal
    amount_paid: Decimal
    paid_date: date | None
    due_date: date | None = None
    """When the fee falls due; None: the billing store's default, the end of the month billed."""

    @property
    def status(self) -> str:
        """Return paid, partial or unpaid (overdue once the due date has passed)."""
        if self.amount_paid >= self.amount_due:
            return "paid"
        return "partial" if self.amount_paid > 0 else "unpaid"


@dataclass(frozen=True, slots=True)
class Household:
    """What billing needs of a unit: its address and area."""

    unit: str
    area: float


def periods(last: str, months: int) -> list[str]:
    """Return ``months`` consecutive periods (YYYY-MM) ending with ``last``."""
    year, month = (int(part) for part in last.split("-"))
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def next_period(period: str) -> str:
    """Return the month after ``period``."""
    year, month = (int(part) for part in period.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def due_date_of(period: str) -> date:
    """Return the last day of the month after ``period``: when its fees fall due."""
    year, month = (int(part) for part in next_period(period).split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def collection_rate(index: int, months: int) -> float:
    """Return the share of households that pay in month ``index`` (0-based) of a history."""
    if months <= 1:
        return LAST_RATE
    return FIRST_RATE + (LAST_RATE - FIRST_RATE) * index / (months - 1)


def billing_history(households: Sequence[Household], last: str, months: int, seed: int) -> list[Bill]:
    """Return ``months`` of bills ending with period ``last``, collection climbing from 64% to 95%.

    The short payers of every month but the last have settled the rest by the time of the export.
    """
    history = periods(last, months)
    return [
        bill
        for index, period in enumerate(history)
        for bill in close_month(households, period, collection_rate(index, months), seed, settled=period != last)
    ]


def close_month(
    households: Sequence[Household], period: str, rate: float, seed: int, *, settled: bool = False
) -> list[Bill]:
    """Return the bills of one month, with the payments of households within ``rate``.

    ``settled``: the month is long closed, so its short payers have paid the rest since.
    """
    traits = random.Random(f"billing:{seed}")
    willing = {h.unit: traits.random() for h in households}
    parking = {h.unit: traits.random() < PARKING_SHARE for h in households}
    rng = random.Random(f"billing:{seed}:{period}")
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    due_date = due_date_of(period)
    bills = []
    for household in households:
        items = [
            (item, code, (price * Decimal(str(household.area))).quantize(Decimal("0.01")))
            for item, code, price in ITEMS
        ]
        if parking[household.unit]:
            items.append(PARKING)
        score = willing[household.unit]
        pays = score < rate
        partial = not pays and score < rate + PARTIAL_BAND
        short = pays and rng.random() < SHORT_SHARE
        paid_on = start + timedelta(days=rng.randrange(3, 40))
        late = paid_on + timedelta(days=rng.randrange(20, 35))
        for position, (item, code, due) in enumerate(items):
            half = (due / 2).quantize(Decimal("0.01"))
            if pays and not (short and position == 0):
                paid, day = due, paid_on
            elif short:
                paid, day = (due, late) if settled else (half, paid_on)
            elif partial and position == 0:
                paid, day = half, paid_on
            else:
                paid, day = Decimal("0.00"), None
            bills.append(
                Bill(
                    reference=f"{period.replace('-', '')}-{household.unit}-{code}",
                    unit=household.unit,
                    period=period,
                    item=BILLING_ITEMS[item].zh,
                    amount_due=due,
                    amount_paid=paid,
                    paid_date=day,
                    due_date=due_date,
                )
            )
    return bills


def close_next_month(bills: Sequence[Bill], households: Sequence[Household], seed: int) -> tuple[str, list[Bill]]:
    """Return the month after the last one billed and the whole export once it is closed.

    The month before it was closed at the full rate too, so re-closing it settled only completes
    what its short payers owed: the rows an ERP's next export states again with the rest paid.
    """
    last = max(b.period for b in bills)
    period = next_period(last)
    kept = [b for b in bills if b.period != last]
    settled = close_month(households, last, LAST_RATE, seed, settled=True)
    return period, [*kept, *settled, *close_month(households, period, LAST_RATE, seed)]


def paid_share(bills: Sequence[Bill], period: str) -> float:
    """Return the share of a month's amount due that was paid."""
    due = sum((b.amount_due for b in bills if b.period == period), Decimal(0))
    paid = sum((b.amount_paid for b in bills if b.period == period), Decimal(0))
    return float(paid / due) if due else 0.0
