"""The ``twin device credentials`` commands: who may publish what on the embedded broker.

A device or gateway gets a user name and password whose ACL lets it publish only its own topics
(never a command, never the twin's own). The password is printed once; the broker rereads its
files at once. Every change is written to the audit log: the files change inside the database
transaction that records it, so without a database to record it nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from twin.audit import audit
from twin.errors import ServiceError
from twin.services.broker_auth import CredentialKind
from twin.services.endpoints import database_url, embedded_broker
from twin.settings import get_settings
from twin.store.engine import one_off_engine, session_factory

device_app = typer.Typer(help="Devices' credentials on the MQTT broker.", no_args_is_help=True)
console = Console()


@contextmanager
def _audited() -> Iterator[Session]:
    """Open a system session acting as the CLI; the change commits with its audit row or not at all."""
    with one_off_engine(database_url(get_settings())) as engine, session_factory(engine)() as session, session.begin():
        session.info["actor"] = "cli"
        yield session


@device_app.command("credentials")
def credentials(
    name: Annotated[str, typer.Argument(help="The device's or gateway's MQTT user name.")],
    topics: Annotated[
        list[str] | None, typer.Option("--topic", help="An MQTT filter it may publish to, e.g. gw/GW-3/#.")
    ] = None,
    commands: Annotated[
        list[str] | None,
        typer.Option("--command", help="A command topic it reads (subscribes to), e.g. cmnd/plug-7/# or gw/GW-3/down."),
    ] = None,
    rotate: Annotated[bool, typer.Option(help="New password (and --topic, if given) for an existing one.")] = False,
    revoke: Annotated[bool, typer.Option(help="Remove the credential; the broker refuses it from now on.")] = False,
) -> None:
    """Create, rotate or revoke a device's broker credential; a new password is printed once."""
    if rotate and revoke:
        raise ServiceError("--rotate and --revoke exclude each other")
    settings = get_settings()
    broker = embedded_broker(settings)
    store = broker.credentials
    with _audited() as session:
        if revoke:
            gone = store.revoke(name)
            audit(session, action="revoke", kind="broker_credential", object_id=name, before={"topics": gone.topics})
        else:
            issued, password = store.issue(name, topics or [], commands=commands, rotate=rotate)
            action = "rotate" if rotate else "create"
            after = {"topics": issued.topics, "commands": issued.commands}
            audit(session, action=action, kind="broker_credential", object_id=name, after=after)
    _reload(broker.reload(), settings.embedded_broker, store.password_file.parent)
    if revoke:
        console.print(f"[green]✓[/] credential {name} revoked")
        return
    console.print(f"[green]✓[/] credential {name} may publish: {', '.join(issued.topics)}")
    if issued.commands:
        console.print(f"  and read its commands: {', '.join(issued.commands)}")
    console.print(f"  password (shown once): [bold]{password}[/]")


@device_app.command("credentials-list")
def credentials_list() -> None:
    """List the broker's credentials and what each may publish (never a password)."""
    table = Table("user", "kind", "may publish")
    for c in embedded_broker(get_settings()).credentials.entries():
        if c.kind is CredentialKind.TWIN:
            spelled = "everything, and it alone commands"
        elif c.kind is CredentialKind.SIMULATOR:
            spelled = "device topics, no commands"
        else:
            spelled = ", ".join(c.topics)
        table.add_row(c.name, c.kind.value, spelled)
    console.print(table)


def _reload(reloaded: bool, embedded: bool, folder: Path) -> None:
    """Say where the change takes effect: the running embedded broker, its next start, or elsewhere."""
    if not embedded:
        console.print(
            f"[yellow]TWIN_MQTT_URL names an external broker[/]: install {folder}/passwd and {folder}/acl there"
            " and reload it (docs/deploy.md)"
        )
    elif reloaded:
        console.print("  the embedded broker reread its password and ACL files")
    else:
        console.print("  the embedded broker is not running; it reads the change when it starts")
