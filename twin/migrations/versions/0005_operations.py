"""Operations: repair tickets with history and photos, billing accounts, charges, payments and
imports, inspection plans, rounds, stops and visits.

Tickets keep their location path; two triggers keep it true when a place or a device moves (the
graph's move re-paths places and devices in bulk SQL, which no Python listener would see).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from twin.store.ltree import LTree

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FOLLOW_PLACE = """
CREATE FUNCTION tickets_follow_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets SET path = NEW.path WHERE place_id = NEW.id AND device_id IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_follow_place AFTER UPDATE OF path ON places
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION tickets_follow_place();
"""

FOLLOW_DEVICE = """
CREATE FUNCTION tickets_follow_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets SET path = NEW.path, place_id = NEW.place_id WHERE device_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_follow_device AFTER UPDATE OF path, place_id ON devices
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.place_id IS DISTINCT FROM NEW.place_id)
    EXECUTE FUNCTION tickets_follow_device();
"""


def upgrade() -> None:
    """Create the tables of tickets, billing and inspections, and the triggers that re-path tickets."""
    op.create_table(
        "billing_imports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_billing_imports_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_imports")),
    )
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("every", sa.String(length=8), nullable=False),
        sa.Column("device_kinds", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("space_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("checklist", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("minutes_per_stop", sa.Float(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "every IN ('day', 'week', 'month', 'quarter', 'year')", name=op.f("ck_inspection_plans_every")
        ),
        sa.CheckConstraint(
            "device_kinds IS NOT NULL OR space_ids IS NOT NULL", name=op.f("ck_inspection_plans_targets")
        ),
        sa.CheckConstraint("minutes_per_stop >= 0", name=op.f("ck_inspection_plans_minutes")),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_inspection_plans_place_id_places"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_inspection_plans_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
    )
    op.create_index("ix_inspection_plans_site", "inspection_plans", ["site_id"], unique=False)
    op.create_table(
        "billing_accounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_billing_accounts_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["spaces.id"], name=op.f("fk_billing_accounts_unit_id_spaces"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_billing_accounts_unit_id")),
    )
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("inspector_id", sa.BigInteger(), nullable=False),
        sa.Column("planned_by", sa.String(length=100), nullable=False),
        sa.Column("budget_minutes", sa.Float(), nullable=False),
        sa.Column("start_space_id", sa.BigInteger(), nullable=True),
        sa.Column("planned_length", sa.Float(), nullable=False),
        sa.Column("planned_minutes", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('planned', 'in_progress', 'done')", name=op.f("ck_inspection_rounds_status")),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_inspection_rounds_inspector_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_inspection_rounds_place_id_places"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_inspection_rounds_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["start_space_id"],
            ["spaces.id"],
            name=op.f("fk_inspection_rounds_start_space_id_spaces"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_rounds")),
    )
    op.create_index("ix_inspection_rounds_inspector", "inspection_rounds", ["inspector_id", "status"], unique=False)
    op.create_table(
        "billing_charges",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("amount_due", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source IN ('import', 'api')", name=op.f("ck_billing_charges_source")),
        sa.CheckConstraint("amount_due >= 0", name=op.f("ck_billing_charges_amount_due")),
        sa.CheckConstraint("extract(day FROM period) = 1", name=op.f("ck_billing_charges_period_month")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_billing_charges_account_id_billing_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_billing_charges_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_charges")),
        sa.UniqueConstraint("site_id", "reference", name="uq_billing_charges_site_reference"),
    )
    op.create_index("ix_billing_charges_account_period", "billing_charges", ["account_id", "period"], unique=False)
    op.create_index("ix_billing_charges_site_period", "billing_charges", ["site_id", "period"], unique=False)
    op.create_table(
        "inspection_stops",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("space_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leg_length", sa.Float(), nullable=False),
        sa.Column("leg", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.CheckConstraint("reason IN ('overdue', 'attention', 'due')", name=op.f("ck_inspection_stops_reason")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_inspection_stops_device_id_devices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_stops_plan_id_inspection_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_stops_round_id_inspection_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_inspection_stops_space_id_spaces"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_stops")),
        sa.UniqueConstraint("round_id", "seq", name="uq_inspection_stops_round_seq"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("path", LTree(), nullable=False),
        sa.Column("alarm_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reporter", sa.String(length=100), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("priority IN ('urgent', 'high', 'normal', 'low')", name=op.f("ck_tickets_priority")),
        sa.CheckConstraint("source IN ('operator', 'alarm', 'app', 'inspection')", name=op.f("ck_tickets_source")),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'in_progress', 'resolved', 'closed')", name=op.f("ck_tickets_status")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tickets_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_tickets_device_id_devices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_tickets_place_id_places"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index("ix_tickets_alarm", "tickets", ["alarm_id"], unique=False)
    op.create_index("ix_tickets_assignee", "tickets", ["assignee_id"], unique=False)
    op.create_index("ix_tickets_device", "tickets", ["device_id"], unique=False)
    op.create_index("ix_tickets_path", "tickets", ["path"], unique=False, postgresql_using="gist")
    op.create_index("ix_tickets_place", "tickets", ["place_id"], unique=False)
    op.create_index("ix_tickets_site_status", "tickets", ["site_id", "status"], unique=False)
    op.create_table(
        "billing_payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("charge_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source IN ('import', 'api')", name=op.f("ck_billing_payments_source")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_billing_payments_amount")),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["billing_charges.id"],
            name=op.f("fk_billing_payments_charge_id_billing_charges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_payments")),
        sa.UniqueConstraint("charge_id", "reference", name="uq_billing_payments_charge_reference"),
    )
    op.create_table(
        "inspection_visits",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("space_id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=True),
        sa.Column("stop_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "outcome = 'defect' OR ticket_id IS NULL", name=op.f("ck_inspection_visits_ticket_on_defect")
        ),
        sa.CheckConstraint("outcome IN ('ok', 'defect')", name=op.f("ck_inspection_visits_outcome")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_inspection_visits_device_id_devices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_visits_plan_id_inspection_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_visits_round_id_inspection_rounds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_inspection_visits_space_id_spaces"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["inspection_stops.id"],
            name=op.f("fk_inspection_visits_stop_id_inspection_stops"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_inspection_visits_ticket_id_tickets"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_visits")),
        sa.UniqueConstraint("stop_id", name=op.f("uq_inspection_visits_stop_id")),
    )
    op.create_index("ix_inspection_visits_round", "inspection_visits", ["round_id"], unique=False)
    op.create_index(
        "ix_inspection_visits_target", "inspection_visits", ["plan_id", "device_id", "space_id", "at"], unique=False
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'status', 'assigned', 'comment', 'photo', 'updated')",
            name=op.f("ck_ticket_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "id"], unique=False)
    op.create_table(
        "ticket_photos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_photos_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_photos")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_ticket_photos_stored_name")),
    )
    op.create_index("ix_ticket_photos_ticket", "ticket_photos", ["ticket_id"], unique=False)

    op.execute(FOLLOW_PLACE)
    op.execute(FOLLOW_DEVICE)


def downgrade() -> None:
    """Drop the triggers and the tables, dependants first."""
    op.execute("DROP TRIGGER tickets_follow_device ON devices")
    op.execute("DROP FUNCTION tickets_follow_device()")
    op.execute("DROP TRIGGER tickets_follow_place ON places")
    op.execute("DROP FUNCTION tickets_follow_place()")
    op.drop_index("ix_ticket_photos_ticket", table_name="ticket_photos")
    op.drop_table("ticket_photos")
    op.drop_index("ix_ticket_events_ticket", table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index("ix_inspection_visits_target", table_name="inspection_visits")
    op.drop_index("ix_inspection_visits_round", table_name="inspection_visits")
    op.drop_table("inspection_visits")
    op.drop_table("billing_payments")
    op.drop_index("ix_tickets_site_status", table_name="tickets")
    op.drop_index("ix_tickets_place", table_name="tickets")
    op.drop_index("ix_tickets_path", table_name="tickets", postgresql_using="gist")
    op.drop_index("ix_tickets_device", table_name="tickets")
    op.drop_index("ix_tickets_assignee", table_name="tickets")
    op.drop_index("ix_tickets_alarm", table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("inspection_stops")
    op.drop_index("ix_billing_charges_site_period", table_name="billing_charges")
    op.drop_index("ix_billing_charges_account_period", table_name="billing_charges")
    op.drop_table("billing_charges")
    op.drop_index("ix_inspection_rounds_inspector", table_name="inspection_rounds")
    op.drop_table("inspection_rounds")
    op.drop_table("billing_accounts")
    op.drop_index("ix_inspection_plans_site", table_name="inspection_plans")
    op.drop_table("inspection_plans")
    op.drop_table("billing_imports")
