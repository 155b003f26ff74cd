"""The scene's data files: bindings, residents and bills as CSV, written and read back.

CSV because that is what a property company's ERP and an installer's spreadsheet export. Every
row read is checked; a bad one is refused with the file, line and column, and nothing of the
file is used, so a load never half-applies a spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

from twin.catalogue import DeviceKind
from twin.scenes.billing import Bill
from twin.scenes.model import Binding, SceneError
from twin.scenes.plan import Community, PlanDevice
from twin.scenes.residents import Resident

T = TypeVar("T")
BINDING_COLUMNS = ("tag", "kind", "profile", "identity", "gateway", "building", "floor", "space")
RESIDENT_COLUMNS = ("unit", "name", "phone", "relation")
BILL_COLUMNS = ("reference", "unit", "period", "item", "amount_due", "amount_paid", "paid_date", "due_date")
"""The last, ``due_date``, may be absent from older exports: the billing store then takes the month's end."""
_RELATIONS = ("owner", "tenant", "family")


def plan_bindings(community: Community) -> list[Binding]:
    """Return the binding of every device of the plan that speaks MQTT."""
    out = []
    for item in community.bound():
        assert item.profile is not None and item.identity is not None and item.kind is not None
        device = item if isinstance(item, PlanDevice) else None
        out.append(
            Binding(
                tag=item.tag,
                kind=item.kind,
                profile=item.profile,
                identity=item.identity,
                gateway=device.gateway if device else None,
                building=device.building if device else None,
                floor=device.level if device else None,
                space=device.space if device else None,
            )
        )
    return out


def write_bindings(path: Path, bindings: Iterable[Binding]) -> None:
    """Write bindings as CSV."""
    _write(
        path,
        BINDING_COLUMNS,
        (
            (
                b.tag,
                b.kind.value,
                b.profile,
                b.identity,
                b.gateway or "",
                b.building or "",
                "" if b.floor is None else b.floor,
                b.space or "",
            )
            for b in bindings
        ),
    )


def read_bindings(path: Path) -> list[Binding]:
    """Read a bindings CSV; refuse unknown kinds, empty identities and a tag bound twice."""
    seen: dict[str, int] = {}

    def row(get: Callable[..., str], line: int) -> Binding:
        tag = get("tag")
        if tag in seen:
            raise SceneError(f"{path}:{line}: tag {tag!r} is bound twice (first on line {seen[tag]})")
        seen[tag] = line
        try:
            kind = DeviceKind(get("kind"))
        except ValueError:
            raise SceneError(f"{path}:{line}: kind: unknown device kind {get('kind')!r}") from None
        floor = get("floor", optional=True)
        if floor and not floor.lstrip("-").isdigit():
            raise SceneError(f"{path}:{line}: floor: {floor!r} is not a whole number")
        return Binding(
            tag=tag,
            kind=kind,
            profile=get("profile"),
            identity=get("identity"),
            gateway=get("gateway", optional=True) or None,
            building=get("building", optional=True) or None,
            floor=int(floor) if floor else None,
            space=get("space", optional=True) or None,
        )

    return list(_read(path, BINDING_COLUMNS, row))


def write_residents(path: Path, residents: Iterable[Resident]) -> None:
    """Write residents as CSV (personal data: the file is git-ignored with the rest of generated/)."""
    _write(path, RESIDENT_COLUMNS, ((r.unit, r.name, r.phone or "", r.relation) for r in residents))


def read_residents(path: Path) -> list[Resident]:
    """Read a residents CSV."""

    def row(get: Callable[..., str], line: int) -> Resident:
        relation = get("relation")
        if relation not in _RELATIONS:
            raise SceneError(f"{path}:{line}: relation: {relation!r} is not one of {', '.join(_RELATIONS)}")
        return Resident(get("unit"), get("name"), get("phone", optional=True) or None, relation)

    return list(_read(path, RESIDENT_COLUMNS, row))


def write_bills(path: Path, bills: Iterable[Bill]) -> None:
    """Write bills as CSV: the whole export, as an ERP writes it again when a payment arrives."""
    rows = (
        (
            b.reference,
            b.unit,
            b.period,
            b.item,
            f"{b.amount_due:.2f}",
            f"{b.amount_paid:.2f}",
            b.paid_date.isoformat() if b.paid_date else "",
            b.due_date.isoformat() if b.due_date else "",
        )
        for b in bills
    )
    _write(path, BILL_COLUMNS, rows)


def read_bills(path: Path) -> list[Bill]:
    """Read a bills CSV; amounts are decimals, dates ISO 8601."""

    def row(get: Callable[..., str], line: int) -> Bill:
        def money(column: str) -> Decimal:
            try:
                value = Decimal(get(column))
            except InvalidOperation:
                raise SceneError(f"{path}:{line}: {column}: {get(column)!r} is not an amount") from None
            if value < 0:
                raise SceneError(f"{path}:{line}: {column}: {value} is negative")
            return value

        def day(column: str) -> date | None:
            text = get(column, optional=True)
            try:
                return date.fromisoformat(text) if text else None
            except ValueError:
                raise SceneError(f"{path}:{line}: {column}: {text!r} is not a date (YYYY-MM-DD)") from None

        return Bill(
            get("reference"),
            get("unit"),
            get("period"),
            get("item"),
            money("amount_due"),
            money("amount_paid"),
            day("paid_date"),
            day("due_date"),
        )

    return list(_read(path, BILL_COLUMNS[:-1], row))


def _write(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(rows)


def _read(path: Path, columns: Sequence[str], make: Callable[[Callable[..., str], int], T]) -> Iterator[T]:
    if not path.is_file():
        raise SceneError(f"{path}: no such file", "run `twin scene generate` or fix the path in scene.toml")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise SceneError(f"{path}:1: missing column(s) {', '.join(missing)} (expected {', '.join(columns)})")
        items = []
        for record in reader:
            line = reader.line_num

            def get(
                column: str, optional: bool = False, record: dict[str, str | None] = record, line: int = line
            ) -> str:
                value = (record.get(column) or "").strip()
                if not value and not optional:
                    raise SceneError(f"{path}:{line}: {column}: is empty")
                return value

            items.append(make(get, line))
    yield from items
