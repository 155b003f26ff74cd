"""The ``twin billing``, ``twin tickets`` and ``twin inspections`` commands: the property's work from a shell.

They run the same use cases as the API, as the system (no scope), in one transaction each:
``twin billing import`` keeps the good rows of an ERP export and prints the refused ones with
their line numbers; ``--json`` prints what the API would answer, for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from twin.errors import TwinError
from twin.graph.places import get_place
from twin.operations.billing_import import import_billing
from twin.operations.billing_queries import Level, payment_rates, unit_statuses
from twin.operations.catalogue import BILLING_STATUSES, TICKET_STATUSES, BillingStatus, DueState, TicketStatus
from twin.operations.inspection_due import due_targets
from twin.operations.money import MoneyError, parse_period, today_cst
from twin.operations.ticket_queries import TicketFilter, list_tickets, tickets_public
from twin.services.endpoints import database_url
from twin.settings import get_settings
from twin.store.base import utcnow
from twin.store.engine import check_schema, one_off_engine, session_factory
from twin.store.models import PlaceRow

billing_app = typer.Typer(help="Fees: import ERP exports, households' standing, payment rates.", no_args_is_help=True)
tickets_app = typer.Typer(help="Repair tickets.", no_args_is_help=True)
inspections_app = typer.Typer(help="Inspection plans and what is due.", no_args_is_help=True)
console = Console()
UNDER = Annotated[int, typer.Option("--under", help="A site, building or floor id: its whole subtree.")]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON, as the API answers.")]


@contextmanager
def _session() -> Iterator[Session]:
    """Open a system session on the configured database, committed as a whole, acting as the CLI."""
    url = database_url(get_settings())
    check_schema(url)
    with one_off_engine(url) as engine, session_factory(engine)() as session, session.begin():
        session.info["actor"] = "cli"
        yield session


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _month(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_period(text)
    except MoneyError as exc:
        raise TwinError(str(exc), "write months as YYYY-MM") from exc


@billing_app.command("import")
def billing_import(
    path: Annotated[Path, typer.Argument(help="The ERP's CSV export (UTF-8 or GB18030).")],
    site: Annotated[int, typer.Option(help="The site's id.")],
    as_json: JSON = False,
) -> None:
    """Import charges and payments; good rows are kept, bad ones listed with their line and reason."""
    if not path.is_file():
        raise TwinError(f"{path} is not a file")
    with _session() as session:
        report = import_billing(session, site, path.read_bytes(), path.name)
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    console.print(
        f"[green]✓[/] {report.file_name}: {report.rows} rows · {report.created} new · {report.updated} updated"
        f" · {report.unchanged} unchanged · [{'red' if report.refused else 'green'}]{len(report.refused)} refused[/]"
    )
    if report.refused:
        table = Table("row", "reference", "reason")
        for row in report.refused:
            table.add_row(str(row.row), row.reference or "", row.reason)
        console.print(table)


@billing_app.command("rates")
def billing_rates(
    under: UNDER,
    by: Annotated[str, typer.Option(help="site, building or floor.")] = "building",
    first: Annotated[str | None, typer.Option("--from", help="First month (YYYY-MM).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last month (YYYY-MM); default this month.")] = None,
    as_json: JSON = False,
) -> None:
    """Print the payment rate (paid over due) per site, building or floor, month by month."""
    if by not in ("site", "building", "floor"):
        raise TwinError(f"--by {by!r} is not site, building or floor")
    to = _month(last) or today_cst().replace(day=1)
    start = _month(first) or to.replace(year=to.year - 1)
    level = cast(Level, by)
    with _session() as session:
        points = payment_rates(session, under, level, start, to)
    if as_json:
        _print_json([p.model_dump(mode="json") for p in points])
        return
    table = Table(by, "month", "due", "paid", "rate", "households paid")
    for p in points:
        rate = f"{p.rate * 100:.2f}%" if p.rate is not None else "—"
        table.add_row(
            p.name,
            f"{p.period:%Y-%m}",
            f"{p.amount_due:.2f}",
            f"{p.amount_paid:.2f}",
            rate,
            f"{p.households_paid}/{p.households}",
        )
    console.print(table)


@billing_app.command("status")
def billing_status(
    under: UNDER,
    status: Annotated[BillingStatus | None, typer.Option(help="Only households in this status.")] = None,
    as_json: JSON = False,
) -> None:
    """Print each household's standing under a place (names are not shown here)."""
    with _session() as session:
        items = unit_statuses(session, under, None, status=status)
    if as_json:
        _print_json([u.model_dump(mode="json") for u in items])
        return
    table = Table("unit", "status", "overdue days", "overdue", "outstanding")
    for u in items:
        label = BILLING_STATUSES[u.status]
        table.add_row(
            u.address or str(u.unit_id),
            f"[{label.colour}]{label.zh} {label.en}[/]",
            str(u.overdue_days),
            f"{u.overdue_amount:.2f}",
            f"{u.outstanding:.2f}",
        )
    console.print(table)


@tickets_app.command("list")
def tickets_list(
    under: Annotated[int | None, typer.Option("--under", help="A place id: its whole subtree.")] = None,
    status: Annotated[list[TicketStatus] | None, typer.Option(help="Only these states.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tickets.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JSON = False,
) -> None:
    """List tickets, newest first."""
    with _session() as session:
        rows, _ = list_tickets(
            session, TicketFilter(under=under, status=status or [], overdue=True if overdue else None, limit=limit)
        )
        items = tickets_public(session, rows)
    if as_json:
        _print_json([t.model_dump(mode="json") for t in items])
        return
    table = Table("id", "status", "priority", "category", "where", "due", "title")
    for t in items:
        label = TICKET_STATUSES[TicketStatus(t.status)]
        state = f"[{label.colour}]{label.zh}[/]" + (" [bold red]超时[/]" if t.overdue else "")
        table.add_row(
            str(t.id),
            state,
            t.priority,
            t.category,
            " / ".join(p.name for p in t.path),
            f"{t.due_at:%Y-%m-%d %H:%M}",
            t.title,
        )
    console.print(table)


@inspections_app.command("due")
def inspections_due(
    under: UNDER,
    all_targets: Annotated[bool, typer.Option("--all", help="Also the targets that are up to date.")] = False,
    as_json: JSON = False,
) -> None:
    """List what the active plans under a place want inspected, overdue first."""
    with _session() as session:
        path = get_place(session, PlaceRow, under, "place").path
        targets = due_targets(session, path, utcnow())
        rows: list[dict[str, Any]] = [
            {
                "plan": t.plan.name,
                "device_id": t.device_id,
                "space_id": t.space_id,
                "name": t.name,
                "state": t.state.value,
                "due_at": t.due_at.isoformat(),
                "overdue_days": t.overdue_days,
                "attention": t.attention,
            }
            for t in sorted(targets, key=lambda t: (t.state is not DueState.OVERDUE, t.due_at))
            if all_targets or t.state is not DueState.OK
        ]
    if as_json:
        _print_json(rows)
        return
    table = Table("plan", "target", "state", "due", "days late", "attention")
    for r in rows:
        table.add_row(
            r["plan"], r["name"], r["state"], r["due_at"][:16], str(r["overdue_days"]), " ".join(r["attention"])
        )
    console.print(table)
