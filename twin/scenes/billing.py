"""Monthly fees of a generated community, and how their collection climbs over a year.

A new property company typically collects under 70% of its fees in its first months and, as
services and follow-up improve, around 95% a year later. Each household gets a fixed willingness
to pay; a month's collection target decides which households pay, so the same ones pay month
after month and the payers only grow. Just below the target some pay part (the property fee,
not the parking); the rest are overdue once the month's due date passes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

FIRST_RATE, LAST_RATE = 0.66, 0.95
PARTIAL_BAND = 0.04
"""Households within this much above the month's target pay part of their property fee."""
ITEMS = (("WY", "物业服务费", Decimal("2.80")), ("NH", "公摊能耗费", Decimal("0.35")))
"""Code, name and monthly price per square metre of the fees every unit pays."""
PARKING = ("CW", "车位管理费", Decimal("150.00"))
PARKING_SHARE = 0.45


@dataclass(frozen=True, slots=True)
class Bill:
    """One line of a property ERP's export: one fee of one unit for one month."""

    reference: str
    unit: str
    period: str
    """The month billed, YYYY-MM."""
    item: str
    amount_due: Decimal
    amount_paid: Decimal
    paid_date: date | None

    @property
    def status(self) -> str:
        """Return paid, partial or unpaid (overdue once the due date has passed)."""
        if self.amount_paid >= self.amount_due:
            return "paid"
        return "partial" if self.amount_paid > 0 else "unpaid"


@dataclass(frozen=True, slots=True)
class Household:
    """What billing needs of a unit: its address, area and whether it rents a parking space."""

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


def collection_rate(index: int, months: int) -> float:
    """Return the share of households that pay in month ``index`` (0-based) of a history."""
    if months <= 1:
        return LAST_RATE
    return FIRST_RATE + (LAST_RATE - FIRST_RATE) * index / (months - 1)


def billing_history(households: Sequence[Household], last: str, months: int, seed: int) -> list[Bill]:
    """Return ``months`` of bills ending with period ``last``, collection climbing from 66% to 95%."""
    return [
        bill
        for index, period in enumerate(periods(last, months))
        for bill in close_month(households, period, collection_rate(index, months), seed)
    ]


def close_month(households: Sequence[Household], period: str, rate: float, seed: int) -> list[Bill]:
    """Return the bills of one month, with the payments of households within ``rate``."""
    traits = random.Random(f"billing:{seed}")
    willing = {h.unit: traits.random() for h in households}
    parking = {h.unit: traits.random() < PARKING_SHARE for h in households}
    rng = random.Random(f"billing:{seed}:{period}")
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    bills = []
    for household in households:
        items = [
            (code, name, (price * Decimal(str(household.area))).quantize(Decimal("0.01")))
            for code, name, price in ITEMS
        ]
        if parking[household.unit]:
            items.append((PARKING[0], PARKING[1], PARKING[2]))
        score = willing[household.unit]
        pays = score < rate
        partial = not pays and score < rate + PARTIAL_BAND
        paid_on = start + timedelta(days=rng.randrange(3, 40))
        for position, (code, name, due) in enumerate(items):
            # A partial payer settles half of the property fee and leaves the rest owing.
            paid = (
                due if pays else (due / 2).quantize(Decimal("0.01")) if partial and position == 0 else Decimal("0.00")
            )
            bills.append(
                Bill(
                    reference=f"{period.replace('-', '')}-{household.unit}-{code}",
                    unit=household.unit,
                    period=period,
                    item=name,
                    amount_due=due,
                    amount_paid=paid,
                    paid_date=paid_on if paid > 0 else None,
                )
            )
    return bills


def paid_share(bills: Sequence[Bill], period: str) -> float:
    """Return the share of a month's amount due that was paid."""
    due = sum((b.amount_due for b in bills if b.period == period), Decimal(0))
    paid = sum((b.amount_paid for b in bills if b.period == period), Decimal(0))
    return float(paid / due) if due else 0.0
