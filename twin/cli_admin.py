"""The ``twin user``, ``twin apikey`` and ``twin audit`` commands: accounts and the audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from twin.audit import verify
from twin.auth import names, throttle, users
from twin.auth.roles import Role
from twin.services.endpoints import database_url
from twin.settings import get_settings
from twin.store.engine import one_off_engine, session_factory

user_app = typer.Typer(help="Accounts and their roles.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machines.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained, MACed audit log.", no_args_is_help=True)
console = Console()


@contextmanager
def _session() -> Iterator[Session]:
    """Open a system session on the configured database, committed as a whole, acting as the CLI."""
    with one_off_engine(database_url(get_settings())) as engine, session_factory(engine)() as session, session.begin():
        session.info["actor"] = "cli"
        yield session


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="The role to grant.")] = Role.VIEWER,
    place: Annotated[int | None, typer.Option(help="Place id the role covers; none = everywhere.")] = None,
    kinds: Annotated[list[str] | None, typer.Option("--kind", help="Device kinds (vendors).")] = None,
    password: Annotated[str | None, typer.Option(help="Password; a random one is printed once if omitted.")] = None,
    machine: Annotated[bool, typer.Option(help="A machine account: no password, API keys only.")] = False,
    wall_display: Annotated[bool, typer.Option(help="Never shows personal data unmasked.")] = False,
) -> None:
    """Create an account with a role on a place (or everywhere)."""
    shown = None
    if not machine and password is None:
        password = shown = secrets.token_urlsafe(12)
    with _session() as session:
        users.add_user(session, username, None if machine else password, wall_display=wall_display)
        users.grant(session, username, role, place, kinds)
    console.print(f"[green]✓[/] user {username} ({role.value}{f' on place {place}' if place else ', everywhere'})")
    if shown:
        console.print(f"  password (shown once): [bold]{shown}[/]")


def ensure_first_admin() -> None:
    """Create the first administrator when there is no account at all, and print its password once."""
    with _session() as session:
        if users.list_users(session):
            return
        password = secrets.token_urlsafe(12)
        users.add_user(session, "admin", password, display_name="管理员")
        users.grant(session, "admin", Role.ADMIN, None)
    console.print(
        f"[bold yellow]first administrator[/]: admin / [bold]{password}[/] (shown once; change it with "
        "`twin user passwd admin`)"
    )


@user_app.command("grant")
def user_grant(
    username: str,
    role: Role,
    place: Annotated[int | None, typer.Option(help="Place id the role covers; none = everywhere.")] = None,
    kinds: Annotated[list[str] | None, typer.Option("--kind", help="Device kinds (vendors).")] = None,
) -> None:
    """Give an account another role on a place."""
    with _session() as session:
        users.grant(session, username, role, place, kinds)
    console.print(f"[green]✓[/] {username}: {role.value}")


@user_app.command("list")
def user_list() -> None:
    """List accounts and their grants."""
    table = Table("user", "disabled", "grants")
    with _session() as session:
        for user, grants in users.list_users(session):
            spelled = ", ".join(
                f"{g.role}@{g.place_id or '*'}" + (f"[{','.join(g.device_kinds)}]" if g.device_kinds else "")
                for g in grants
            )
            table.add_row(user.username, "yes" if user.disabled else "", spelled)
    console.print(table)


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable an account; its tokens and keys stop working at once."""
    with _session() as session:
        users.disable_user(session, username)
    console.print(f"[green]✓[/] {username} disabled")


@user_app.command("passwd")
def user_passwd(username: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)]) -> None:
    """Change an account's password."""
    with _session() as session:
        users.set_password(session, username, password)
    console.print(f"[green]✓[/] password of {username} changed")


@user_app.command("unlock")
def user_unlock(
    username: str,
    address: Annotated[str | None, typer.Option(help="Only the throttle of this address (default: every one).")] = None,
) -> None:
    """Clear an account's failed-login throttles, so its owner may log in at once again."""
    with _session() as session:
        cleared = throttle.clear(session, names.normalise(username), address)
    console.print(f"[green]✓[/] {cleared} throttle(s) of {username} cleared")


@apikey_app.command("create")
def apikey_create(username: str, name: str) -> None:
    """Create an API key acting as an account; the key is printed once."""
    with _session() as session:
        row, secret = users.create_api_key(session, username, name)
    console.print(f"[green]✓[/] key {row.prefix} for {username}: [bold]{secret}[/] (shown once)")


@apikey_app.command("revoke")
def apikey_revoke(prefix: str) -> None:
    """Revoke an API key by its prefix."""
    with _session() as session:
        users.revoke_api_key(session, prefix)
    console.print(f"[green]✓[/] key {prefix} revoked")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain's MACs, links and latest checkpoint; exit 1 naming the first broken row."""
    with _session() as session:
        checked, broken = verify(session)
    if broken is None:
        console.print(f"[green]✓[/] audit log intact: {checked} rows")
        return
    where = "its checkpoint file" if broken.row_id is None else f"row {broken.row_id}"
    console.print(f"[bold red]audit log broken at {where}[/]: {broken.reason} ({checked} rows before it hold)")
    raise typer.Exit(1)
