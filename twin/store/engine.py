"""Engines, sessions and the schema version check.

The server refuses to start on a database whose schema is behind the code: running against a
half-migrated store corrupts it quietly, so the refusal names the command that fixes it.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from twin.errors import ServiceError
from twin.store.roles import grant_app_role


def make_engine(url: str) -> Engine:
    """Return a pooled engine; its owner disposes of it (the app at shutdown, a command when done).

    A pooled connection the server has closed (a restart, an administrator's terminate) is
    replaced at checkout, so the first request after a database restart works. SQLAlchemy's
    pre-ping would find out with a ``SELECT 1`` round trip at every checkout, which cost a fifth
    of a millisecond per request; :func:`_closed_by_server` looks at the socket instead.
    """
    engine = create_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has left: the pool then opens another."""
    if server_left(dbapi_connection):
        raise DisconnectionError("the server closed the connection")


def server_left(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Tell whether an idle connection is closed or its socket has something to read.

    An idle connection between two statements receives nothing unless the server is leaving
    (PostgreSQL sends the reason, then closes). A false alarm costs one new connection.
    """
    if connection.closed:
        return True
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def driver_conninfo(engine: Engine) -> str:
    """Return the engine's database as psycopg's own connection string, for connections outside the pool."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def one_off_engine(url: str) -> Iterator[Engine]:
    """Lend an engine for one command (migrate, check) and close its connections after."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Return a session maker whose objects stay readable after commit (events read them).

    ``info`` starts each session's ``Session.info``: a server's sessions carry its audit seal there.
    """
    return sessionmaker(engine, expire_on_commit=False, info=info)


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at the twin's migrations, with no ini file needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("twin") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, app_role: str | None = None) -> None:
    """Migrate a database to the newest schema as its owner, then grant the server's role its rights.

    The grants are in the migration's transaction: the schema never stands at a revision whose
    tables the server may not use.
    """
    try:
        with one_off_engine(url) as engine, engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            if app_role is not None:
                grant_app_role(conn, app_role)
    except OperationalError as exc:
        raise ServiceError(
            f"cannot reach the database: {_first_line(exc)}", "is it running? `twin services status`"
        ) from exc


def schema_state(url: str) -> tuple[set[str], set[str]]:
    """Return the database's schema revisions and the code's newest ones (one per branch)."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with one_off_engine(url) as engine, engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def check_schema(url: str) -> None:
    """Refuse a database whose schema is not the code's, naming the fix."""
    try:
        current, heads = schema_state(url)
    except OperationalError as exc:
        raise ServiceError(
            f"cannot reach the database: {_first_line(exc)}", "is it running? `twin services status`"
        ) from exc
    except ProgrammingError as exc:
        if not isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            raise
        raise ServiceError(
            f"the server's database role may not read the schema: {_first_line(exc)}",
            "run `twin db upgrade`, which grants it its rights",
        ) from exc
    if current != heads:
        raise ServiceError(
            f"the database schema is at {', '.join(sorted(current)) or 'nothing'}, "
            f"the code needs {', '.join(sorted(heads))}",
            "run `twin db upgrade`",
        )


def postgis_version(engine: Engine) -> str:
    """Return the PostGIS library version, proving the database answers and has the extension."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]
