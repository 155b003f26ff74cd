"""Charges and payments from a property ERP's CSV export (docs/operations.md shows the shape).

One row is one charge: reference number, unit address, month, item, amount due, amount paid,
paid date (and optionally the date it falls due). Headers may be Chinese or English; the file may
be UTF-8 (with or without the BOM Excel writes) or GB18030, as Chinese Excel saves it. Every row
is checked before anything is written; the good rows are written together in the caller's
transaction and the bad ones are reported with their line number and reason, so one typo never
holds up a month's bills, and a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.auth.roles import Permission
from twin.auth.scope import principal_of
from twin.errors import ValidationError
from twin.graph.addresses import parse_address
from twin.graph.places import get_place
from twin.operations.billing import announce_units
from twin.operations.catalogue import BILLING_ITEMS, billing_item
from twin.operations.charges import ChargeBatch, ChargeInput, RowRefused
from twin.operations.money import MoneyError, parse_day, parse_money, parse_period
from twin.operations.schemas import ImportReport, RefusedRow
from twin.store.models import SiteRow, SpaceRow
from twin.store.operations import BillingImportRow

COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("单据号", "单号", "票据号", "流水号", "收费单号", "reference", "ref"),
    "unit": ("房号", "房屋", "房间号", "房屋编号", "unit", "address"),
    "period": ("账期", "所属期", "费用月份", "计费月份", "period", "month"),
    "item": ("收费项目", "费用项目", "项目", "item"),
    "amount_due": ("应收金额", "应收", "应缴金额", "amount_due"),
    "amount_paid": ("实收金额", "实收", "已缴金额", "amount_paid"),
    "paid_date": ("缴费日期", "收款日期", "实收日期", "paid_date", "paid_on"),
    "due_date": ("应缴日期", "缴费期限", "截止日期", "due_date"),
}
"""Each field and the headers ERP exports give it, Chinese first; ``due_date`` may be absent."""
REQUIRED = ("reference", "unit", "period", "item", "amount_due", "amount_paid", "paid_date")


@dataclass(frozen=True, slots=True)
class Row:
    """A data row: its line number in the file and its values by field."""

    line: int
    values: dict[str, str]


def decode(data: bytes) -> str:
    """Read the file's text: UTF-8 (BOM or not) first, then GB18030, which Chinese Excel writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("file", "the file is neither UTF-8 nor GB18030 text")


def _field_of(header: str) -> str | None:
    cleaned = header.strip().strip("\ufeff").lower().replace(" ", "_")
    for name, aliases in COLUMNS.items():
        if cleaned in (alias.lower() for alias in aliases):
            return name
    return None


def read_rows(text: str) -> Iterator[Row]:
    """Yield the data rows; a header without the required columns refuses the whole file, naming them."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample.splitlines()[0] if sample else ",", ",\t;"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    if header is None:
        raise ValidationError("file", "row 1: the file is empty; expected a header row")
    fields = [_field_of(h) for h in header]
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        named = ", ".join(f"{COLUMNS[m][0]} ({m})" for m in missing)
        raise ValidationError("file", f"row 1: missing columns: {named}")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: cells[i].strip() for i, name in enumerate(fields) if name is not None and i < len(cells)}
        yield Row(reader.line_num, values)


class _Units:
    """The household units of a site by normalised address, loaded once for the whole file."""

    def __init__(self, session: Session, site_id: int) -> None:
        self.by_address: dict[str, list[SpaceRow]] = {}
        query = select(SpaceRow).where(
            SpaceRow.site_id == site_id,
            SpaceRow.space_kind == "unit",
            SpaceRow.address.is_not(None),
            SpaceRow.retired_at.is_(None),
        )
        for unit in session.scalars(query):
            self.by_address.setdefault(unit.address or "", []).append(unit)
        self.principal = principal_of(session)
        self.site_id = site_id

    def find(self, text: str) -> SpaceRow:
        parsed = parse_address(text)
        if parsed is None:
            raise RowRefused(f"unit {text!r} is not an address such as 3-2-1801 or 3栋2单元1801室")
        units = self.by_address.get(parsed.normal, [])
        if self.principal is not None:
            units = [u for u in units if self.principal.allows(Permission.BILLING_WRITE, u.path)]
        if not units:
            raise RowRefused(f"unknown unit {parsed.normal} in site {self.site_id}")
        if len(units) > 1:
            raise RowRefused(f"address {parsed.normal} names {len(units)} units; fix the model first")
        return units[0]


def _charge(row: Row, units: _Units) -> ChargeInput:
    values = row.values
    for name in REQUIRED:
        if name not in values:
            raise RowRefused(f"missing value for column {COLUMNS[name][0]} ({name})")
    for name in ("reference", "unit", "period", "item", "amount_due"):
        if not values[name]:
            raise RowRefused(f"empty {COLUMNS[name][0]} ({name})")
    item = billing_item(values["item"])
    if item is None:
        known = "、".join(label.zh for label in BILLING_ITEMS.values())
        raise RowRefused(f"unknown item {values['item']!r} (known: {known})")
    if len(values["reference"]) > 64:
        raise RowRefused("reference longer than 64 characters")
    try:
        return ChargeInput(
            reference=values["reference"],
            unit=units.find(values["unit"]),
            period=parse_period(values["period"]),
            item=item,
            amount_due=parse_money(values["amount_due"]),
            due_date=parse_day(values["due_date"]) if values.get("due_date") else None,
            amount_paid=parse_money(values["amount_paid"]) if values["amount_paid"] else parse_money("0"),
            paid_on=parse_day(values["paid_date"]) if values["paid_date"] else None,
        )
    except MoneyError as exc:
        raise RowRefused(str(exc)) from exc


@dataclass
class PlannedImport:
    """An import decided and not yet written: every row created, updated, unchanged or refused."""

    batch: ChargeBatch
    rows: int
    counts: dict[str, int]
    refused: list[RefusedRow]
    touched: dict[int, SpaceRow]
    """The units whose standing the import changes."""

    @property
    def changes(self) -> int:
        """Return how many charges the import would create or update."""
        return self.counts["created"] + self.counts["updated"]


def plan_import(session: Session, site_id: int, data: bytes) -> PlannedImport:
    """Read an ERP export and decide each row against the store, writing nothing yet.

    A scene load plans first so that a file the store already holds writes no report and no
    audit row; the API always writes both (``import_billing``).
    """
    site = get_place(session, SiteRow, site_id, "site")
    units = _Units(session, site.id)
    refused: list[RefusedRow] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    first_line: dict[str, int] = {}
    read: list[tuple[Row, ChargeInput]] = []
    rows = 0
    for row in read_rows(decode(data)):
        rows += 1
        reference = row.values.get("reference") or None
        try:
            if reference in first_line:
                raise RowRefused(f"duplicate reference {reference} (first at row {first_line[reference]})")
            if reference is not None:
                first_line[reference] = row.line
            read.append((row, _charge(row, units)))
        except RowRefused as exc:
            refused.append(RefusedRow(row=row.line, reference=reference, reason=str(exc)))
    batch = ChargeBatch(session, site.id, "import")
    batch.load([charge.reference for _, charge in read], [charge.unit.id for _, charge in read])
    touched: dict[int, SpaceRow] = {}
    for row, charge in read:
        try:
            outcome = batch.add(charge)
        except RowRefused as exc:
            refused.append(RefusedRow(row=row.line, reference=charge.reference, reason=str(exc)))
            continue
        counts[outcome] += 1
        if outcome != "unchanged":
            touched[charge.unit.id] = charge.unit
    refused.sort(key=lambda r: r.row)
    return PlannedImport(batch, rows, counts, refused, touched)


def write_import(session: Session, planned: PlannedImport, data: bytes, file_name: str) -> ImportReport:
    """Write a planned import, keep its report, audit it and announce the units it touched."""
    actor = str(session.info.get("actor") or "system")
    planned.batch.write(actor)
    counts, refused, site_id = planned.counts, planned.refused, planned.batch.site_id
    report = ImportReport(id=None, file_name=file_name, rows=planned.rows, refused=refused, **counts)
    stored = BillingImportRow(
        site_id=site_id,
        file_name=file_name[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        actor=actor,
        report=report.model_dump(mode="json", exclude={"id"}),
    )
    session.add(stored)
    session.flush()
    report.id = stored.id
    audit(
        session,
        action="billing.import",
        kind="billing_import",
        object_id=stored.id,
        after={"site_id": site_id, "file_name": file_name, "sha256": stored.sha256, **counts, "refused": len(refused)},
    )
    announce_units(session, list(planned.touched.values()))
    return report


def import_billing(session: Session, site_id: int, data: bytes, file_name: str) -> ImportReport:
    """Import an ERP export into a site: keep every good row, refuse each bad one with its reason.

    Idempotent by reference: importing the same file again reports every row unchanged.
    """
    return write_import(session, plan_import(session, site_id, data), data, file_name)
