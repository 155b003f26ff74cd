"""Exact money and billing months, read from what people and ERP exports write.

Amounts are ``Decimal`` with at most two decimals (fen): a float cannot hold 0.10 exactly, and a
payment rate summed over thousands of households must add up to the fen. Dates of bills are
China Standard Time (UTC+8, no daylight saving): a fee paid at 07:00 on the 1st belongs to the
1st, not to the last day of the month before.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

CST = timezone(timedelta(hours=8), "CST")
"""The time zone bills are dated in."""

CENT = Decimal("0.01")
_AMOUNT = re.compile(r"^\d{1,10}(?:\.\d{1,2})?$")
"""Ten digits of yuan at most: what NUMERIC(12, 2) holds."""
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?$")
_DAY = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|(\d{2})(\d{2}))$")
_PERIOD = re.compile(r"^(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?$")


class MoneyError(ValueError):
    """An amount, a date or a month that cannot be read; the message says what was expected."""


def parse_money(text: str) -> Decimal:
    """Read an amount such as 1234.5, "1,234.50" or "¥88": never negative, at most two decimals."""
    cleaned = text.strip().removeprefix("¥").removeprefix("￥").strip()
    if cleaned.startswith("-"):
        raise MoneyError(f"amount {text!r} is negative")
    if _GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _AMOUNT.match(cleaned):
        raise MoneyError(f"amount {text!r} is not a number of yuan with at most two decimals (1234.50)")
    return Decimal(cleaned).quantize(CENT)


def parse_period(text: str) -> date:
    """Read a billing month (2024-05, 2024/5, 2024年5月) as its first day."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise MoneyError(f"month {text!r} is not written YYYY-MM")
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and 2000 <= year <= 2999):
        raise MoneyError(f"month {text!r} does not exist")
    return date(year, month, 1)


def parse_day(text: str) -> date:
    """Read a date as ERP exports write it (2024-05-03, 2024/5/3, 2024.5.3, 20240503, with or without a time)."""
    match = _DAY.match(text.strip().split(" ")[0].split("T")[0])
    if match is not None:
        year, month, day = (int(g) for g in (match[1], match[2] or match[4], match[3] or match[5]))
        try:
            if 2000 <= year <= 2999:
                return date(year, month, day)
        except ValueError:
            pass
    raise MoneyError(f"date {text!r} is not written YYYY-MM-DD")


def month_end(period: date) -> date:
    """Return the last day of a billing month: a charge is due by then unless the export says otherwise."""
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def today_cst(now: datetime | None = None) -> date:
    """Return today's date where the bills are dated."""
    return (now or datetime.now(UTC)).astimezone(CST).date()


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """Return part / whole to four decimals (0.9512), rounded half up; None when nothing was due."""
    if whole == 0:
        return None
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
