"""Writing charges in batches: what the store knows of each reference, the decision, then bulk statements.

An ERP export holds tens of thousands of rows; one round trip per row would make a month's import
take minutes. A batch loads what the store knows of the file's references and units in a few
queries, decides every row in Python (refusing the bad ones before anything is written), then
writes the new accounts, charges and payments with one statement per kind. A charge posted
through the API is a batch of one, so both paths follow the same rules:

- a reference names one charge of one unit, month and item for good; reusing it for another is refused;
- the paid amount an export states is the charge's imported payment, *set* on every import, never added;
- what is paid in all never exceeds what is due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from twin.operations.catalogue import BILLING_ITEMS, BillingItem
from twin.operations.money import month_end
from twin.store.models import SpaceRow
from twin.store.operations import PaymentRow

Outcome = Literal["created", "updated", "unchanged"]
ZERO = Decimal("0.00")


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


@dataclass
class Known:
    """What the store holds for a reference: the charge, its imported payment and the other payments."""

    reference: str
    charge_id: int
    unit_id: int
    period: date
    item: str
    amount_due: Decimal
    due_date: date
    import_payment_id: int | None = None
    import_paid: Decimal = ZERO
    import_paid_on: date | None = None
    other_paid: Decimal = ZERO


KNOWN = text(
    "SELECT c.reference, c.id, a.unit_id, c.period, c.item, c.amount_due, c.due_date FROM billing_charges c "
    "JOIN billing_accounts a ON a.id = c.account_id "
    "WHERE c.site_id = :site AND c.reference = ANY(CAST(:refs AS text[]))"
)
PAID = text(
    "SELECT charge_id, id, reference, amount, paid_on FROM billing_payments "
    "WHERE charge_id = ANY(CAST(:ids AS bigint[])) ORDER BY id"
)
ACCOUNTS = text("SELECT unit_id, id FROM billing_accounts WHERE unit_id = ANY(CAST(:units AS bigint[]))")
NEW_ACCOUNTS = text(
    "INSERT INTO billing_accounts (site_id, unit_id, account_no) "
    "SELECT :site, u, n FROM unnest(CAST(:units AS bigint[]), CAST(:nos AS text[])) AS v(u, n) RETURNING unit_id, id"
)
NEW_CHARGES = text(
    "INSERT INTO billing_charges (site_id, account_id, reference, period, item, amount_due, due_date, source) "
    "SELECT :site, a, r, p, i, d, dd, :source FROM unnest(CAST(:accounts AS bigint[]), CAST(:refs AS text[]), "
    "CAST(:periods AS date[]), CAST(:items AS text[]), CAST(:dues AS numeric[]), CAST(:due_dates AS date[])) "
    "AS v(a, r, p, i, d, dd) RETURNING id, reference"
)
CHARGE_UPDATES = text(
    "UPDATE billing_charges c SET amount_due = v.d, due_date = v.dd, updated_at = now() "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:dues AS numeric[]), CAST(:due_dates AS date[])) AS v(id, d, dd) "
    "WHERE c.id = v.id"
)
NEW_PAYMENTS = text(
    "INSERT INTO billing_payments (charge_id, reference, amount, paid_on, source, recorded_by) "
    "SELECT c, r, a, d, 'import', :by FROM unnest(CAST(:charges AS bigint[]), CAST(:refs AS text[]), "
    "CAST(:amounts AS numeric[]), CAST(:days AS date[])) AS v(c, r, a, d)"
)
PAYMENT_UPDATES = text(
    "UPDATE billing_payments p SET amount = v.a, paid_on = v.d "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:amounts AS numeric[]), CAST(:days AS date[])) AS v(id, a, d) "
    "WHERE p.id = v.id"
)
"""Each statement takes whole columns as arrays: one round trip and one plan for any number of rows."""


@dataclass
class ChargeBatch:
    """Charges of one site decided one by one and written together by ``write``."""

    session: Session
    site_id: int
    source: str
    known: dict[str, Known] = field(default_factory=dict)
    accounts: dict[int, int] = field(default_factory=dict)
    new_charges: list[tuple[ChargeInput, date]] = field(default_factory=list)
    charge_updates: list[dict[str, Any]] = field(default_factory=list)
    payments: list[tuple[str, ChargeInput]] = field(default_factory=list)
    """Imported payments to set: (reference, input), whether the charge is new or known."""

    def load(self, references: Sequence[str], unit_ids: Iterable[int]) -> None:
        """Read what the store knows of these references and which of these units have accounts (3 queries)."""
        rows = self.session.execute(KNOWN, {"site": self.site_id, "refs": sorted(set(references))})
        for ref, charge_id, unit_id, period, item, due, due_date in rows:
            self.known[ref] = Known(ref, charge_id, unit_id, period, item, due, due_date)
        by_id = {k.charge_id: k for k in self.known.values()}
        for charge_id, payment_id, ref, amount, paid_on in self.session.execute(PAID, {"ids": sorted(by_id)}):
            k = by_id[charge_id]
            if ref == k.reference:
                k.import_payment_id, k.import_paid, k.import_paid_on = payment_id, amount, paid_on
            else:
                k.other_paid += amount
        owned = self.session.execute(ACCOUNTS, {"units": sorted(set(unit_ids))})
        self.accounts.update({unit_id: account_id for unit_id, account_id in owned})

    def add(self, data: ChargeInput) -> Outcome:
        """Decide one charge against what the store holds; refuse it, with the reason, before any write."""
        if data.amount_paid is not None and data.amount_paid > 0 and data.paid_on is None:
            raise RowRefused(f"amount paid {data.amount_paid} has no paid date")
        due_date = data.due_date or month_end(data.period)
        k = self.known.get(data.reference)
        if k is not None and (k.unit_id, k.period, k.item) != (data.unit.id, data.period, data.item.value):
            what = f"unit {k.unit_id}, {k.period:%Y-%m}, {BILLING_ITEMS[BillingItem(k.item)].zh}"
            raise RowRefused(f"reference {data.reference} already names another charge ({what})")
        if data.amount_paid is not None:
            paid = data.amount_paid + (k.other_paid if k is not None else ZERO)
            if paid > data.amount_due:
                raise RowRefused(f"amount paid {paid} exceeds amount due {data.amount_due}")
        elif k is not None and k.import_paid + k.other_paid > data.amount_due:
            raise RowRefused(f"amount due {data.amount_due} is less than what was paid already")
        if k is None:
            self.new_charges.append((data, due_date))
            if data.amount_paid:
                self.payments.append((data.reference, data))
            return "created"
        outcome: Outcome = "unchanged"
        if (k.amount_due, k.due_date) != (data.amount_due, due_date):
            self.charge_updates.append({"id": k.charge_id, "amount_due": data.amount_due, "due_date": due_date})
            outcome = "updated"
        if data.amount_paid is not None and (k.import_paid, k.import_paid_on) != (
            data.amount_paid,
            data.paid_on if data.amount_paid else None,
        ):
            self.payments.append((data.reference, data))
            outcome = "updated"
        return outcome

    def write(self, recorded_by: str) -> dict[str, int]:
        """Write what was decided, one statement per kind; return the charge id of every new reference."""
        self._open_accounts()
        ids: dict[str, int] = {}
        if self.new_charges:
            params = {
                "site": self.site_id,
                "source": self.source,
                "accounts": [self.accounts[data.unit.id] for data, _ in self.new_charges],
                "refs": [data.reference for data, _ in self.new_charges],
                "periods": [data.period for data, _ in self.new_charges],
                "items": [data.item.value for data, _ in self.new_charges],
                "dues": [data.amount_due for data, _ in self.new_charges],
                "due_dates": [due_date for _, due_date in self.new_charges],
            }
            ids = {ref: charge_id for charge_id, ref in self.session.execute(NEW_CHARGES, params)}
        if self.charge_updates:
            self.session.execute(
                CHARGE_UPDATES,
                {
                    "ids": [u["id"] for u in self.charge_updates],
                    "dues": [u["amount_due"] for u in self.charge_updates],
                    "due_dates": [u["due_date"] for u in self.charge_updates],
                },
            )
        self._set_payments(ids, recorded_by)
        return ids

    def _open_accounts(self) -> None:
        missing = {data.unit.id: data.unit for data, _ in self.new_charges if data.unit.id not in self.accounts}
        if missing:
            units = sorted(missing)
            params = {"site": self.site_id, "units": units, "nos": [missing[u].address or str(u) for u in units]}
            self.accounts.update(
                {unit_id: account_id for unit_id, account_id in self.session.execute(NEW_ACCOUNTS, params)}
            )

    def _set_payments(self, new_ids: dict[str, int], recorded_by: str) -> None:
        inserts: list[tuple[int, str, Decimal, date | None]] = []
        updates: list[tuple[int, Decimal, date | None]] = []
        deletes: list[int] = []
        for reference, data in self.payments:
            k = self.known.get(reference)
            amount = data.amount_paid or ZERO
            if k is not None and k.import_payment_id is not None:
                if amount == 0:
                    deletes.append(k.import_payment_id)
                else:
                    updates.append((k.import_payment_id, amount, data.paid_on))
            elif amount > 0:
                inserts.append((k.charge_id if k is not None else new_ids[reference], reference, amount, data.paid_on))
        if inserts:
            charge_ids, refs, amounts, days = (list(column) for column in zip(*inserts, strict=True))
            params = {"charges": charge_ids, "refs": refs, "amounts": amounts, "days": days, "by": recorded_by}
            self.session.execute(NEW_PAYMENTS, params)
        if updates:
            ids, amounts, days = (list(column) for column in zip(*updates, strict=True))
            self.session.execute(PAYMENT_UPDATES, {"ids": ids, "amounts": amounts, "days": days})
        if deletes:
            self.session.execute(delete(PaymentRow).where(PaymentRow.id.in_(deletes)))


def paid_elsewhere(session: Session, charge_id: int, reference: str) -> Decimal:
    """Return what a charge has received under other payment references."""
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentRow.amount), 0)).where(
            PaymentRow.charge_id == charge_id, PaymentRow.reference != reference
        )
    )
    return Decimal(total or 0)
