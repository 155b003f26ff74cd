"""Alarms: one open alarm per (rule, subject) by a partial unique index; rules declared through the API.

An alarm keeps its location path; a trigger keeps it true when its device moves (the graph moves
devices in bulk SQL, which no Python listener would see).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from twin.store.ltree import LTree

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FOLLOW_DEVICE = """
CREATE FUNCTION alarms_follow_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alarms SET path = NEW.path, place_id = NEW.place_id WHERE device_id = NEW.id AND state <> 'closed';
    RETURN NULL;
END $$;
CREATE TRIGGER alarms_follow_device AFTER UPDATE OF path, place_id ON devices
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.place_id IS DISTINCT FROM NEW.place_id)
    EXECUTE FUNCTION alarms_follow_device();
"""


def upgrade() -> None:
    """Create the alarms and alarm_rules tables and the trigger that re-paths open alarms."""
    op.create_table(
        "alarms",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("path", LTree(), nullable=False),
        sa.Column("households", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("state IN ('raised', 'acknowledged', 'cleared', 'closed')", name=op.f("ck_alarms_state")),
        sa.CheckConstraint("severity IN ('critical', 'major', 'minor', 'warning')", name=op.f("ck_alarms_severity")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_alarms_site_id_sites"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_alarms_place_id_places"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_alarms_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["alarms.id"], name=op.f("fk_alarms_parent_id_alarms"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_alarms_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_alarms_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index(
        "uq_alarms_open", "alarms", ["rule", "subject"], unique=True, postgresql_where=sa.text("state <> 'closed'")
    )
    op.create_index("ix_alarms_path", "alarms", ["path"], postgresql_using="gist")
    op.create_index("ix_alarms_site_state", "alarms", ["site_id", "state"])
    op.create_index("ix_alarms_device", "alarms", ["device_id", "first_at"])
    op.create_index("ix_alarms_parent", "alarms", ["parent_id"])
    op.create_index("ix_alarms_last", "alarms", ["last_at"])
    op.create_table(
        "alarm_rules",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_alarm_rules_name")),
    )
    op.execute(FOLLOW_DEVICE)


def downgrade() -> None:
    """Drop the alarm tables and the trigger."""
    op.execute("DROP TRIGGER IF EXISTS alarms_follow_device ON devices")
    op.execute("DROP FUNCTION IF EXISTS alarms_follow_device()")
    op.drop_table("alarm_rules")
    op.drop_table("alarms")
