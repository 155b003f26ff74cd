"""Alembic's entry point: run the migrations on the connection the twin hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from twin.store import gis_layers, imports, models, security, telemetry  # noqa: F401  (registers the tables on Base.metadata)
from twin.store.base import Base

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
