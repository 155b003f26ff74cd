"""The declarative base and the naming convention every constraint follows.

A fixed naming convention keeps Alembic migrations reproducible: a constraint has the same name
in every database, so a later migration can drop it by name.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of the twin."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Return an aware UTC timestamp; the store never holds naive times."""
    return datetime.now(UTC)


class Timestamped:
    """Created and updated times, set by the database so every writer agrees."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


def draw_ids(session: Session, table: str, count: int) -> list[int]:
    """Draw ``count`` ids of a table's id sequence in one statement, ascending (rows keep their order)."""
    drawn = session.scalars(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table, "n": count},
    )
    return sorted(int(v) for v in drawn)
