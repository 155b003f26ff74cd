"""Telemetry: latest device state, time-partitioned history and hourly rollups, discovered identities.

The partitioned tables get no partitions here: which months exist depends on the clock, so the
ingest's maintenance creates them ahead (and the writer on demand).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the telemetry tables and the rollup watermark, starting at this hour (no history yet)."""
    op.create_table(
        "device_state",
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("flag", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("num_nonnulls(value, flag, text) = 1", name=op.f("ck_device_state_one_value")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_state_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", "quantity", name=op.f("pk_device_state")),
    )
    op.create_table(
        "readings",
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "quantity", "time", name=op.f("pk_readings")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_table(
        "readings_hourly",
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "quantity", "hour", name=op.f("pk_readings_hourly")),
        postgresql_partition_by="RANGE (hour)",
    )
    op.create_table(
        "telemetry_jobs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("done_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dirty_from", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_telemetry_jobs")),
    )
    op.execute("INSERT INTO telemetry_jobs (name, done_until) VALUES ('hourly', date_trunc('hour', now()))")
    op.create_table(
        "discovered_identities",
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("latest", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hint", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("namespace", "value", name=op.f("pk_discovered_identities")),
    )
    op.create_index("ix_discovered_last_seen", "discovered_identities", ["last_seen"], unique=False)


def downgrade() -> None:
    """Drop the telemetry tables (with every partition of history)."""
    op.drop_index("ix_discovered_last_seen", table_name="discovered_identities")
    op.drop_table("discovered_identities")
    op.drop_table("telemetry_jobs")
    op.drop_table("readings_hourly")
    op.drop_table("readings")
    op.drop_table("device_state")
