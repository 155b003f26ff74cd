"""The audit log's seal: each entry's position in the chain and its MAC; the owner's partition functions.

``seq`` numbers the entries (1, 2, …) in chain order, so a checkpoint kept outside the database can
say how long the chain was; ``mac`` is the HMAC of an entry's position and hash under a key the
database never holds (``twin.audit_seal``). Entries written before this revision have no MAC: their
count is kept in ``audit_chain.legacy_until`` and copied into every (MACed) checkpoint, so they are
verified by their hash links only, and from the first checkpoint on nobody can move that line.

The server connects as a role that owns nothing (``twin.store.roles``), so it may not create or drop
the monthly partitions of the history itself: two functions owned by the migrating role do it for
it, for those two tables only.

Revision ID: 0008d
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008d"
down_revision = "0007"
branch_labels = None
depends_on = None

PARTITION_FUNCTIONS = r"""
CREATE FUNCTION twin_create_partition(parent text, name text, low timestamptz, high timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF parent NOT IN ('readings', 'readings_hourly') OR name !~ ('^' || parent || '_[0-9]{4}(_[0-9]{2})?$') THEN
        RAISE EXCEPTION 'not a history partition: % of %', name, parent;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   name, parent, low, high);
END $$;
CREATE FUNCTION twin_drop_partition(parent text, name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF parent NOT IN ('readings', 'readings_hourly') OR NOT EXISTS (
        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = parent AND c.relname = name
    ) THEN
        RAISE EXCEPTION 'not a history partition: % of %', name, parent;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS %I', name);
END $$;
REVOKE ALL ON FUNCTION twin_create_partition(text, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION twin_drop_partition(text, text) FROM PUBLIC;
"""


def upgrade() -> None:
    """Number the existing entries, add the MAC column and the legacy line, create the partition functions."""
    op.add_column("audit_log", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("mac", sa.String(64), nullable=True))
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(
        "UPDATE audit_log SET seq = n.seq FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) AS seq FROM audit_log) AS n WHERE audit_log.id = n.id"
    )
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.alter_column("audit_log", "seq", nullable=False)
    op.create_unique_constraint(op.f("uq_audit_log_seq"), "audit_log", ["seq"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("legacy_until", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.execute("INSERT INTO audit_chain (id, legacy_until) SELECT 1, count(*) FROM audit_log")
    op.execute(PARTITION_FUNCTIONS)


def downgrade() -> None:
    """Drop the partition functions, the legacy line and the seal's columns."""
    op.execute("DROP FUNCTION IF EXISTS twin_drop_partition(text, text)")
    op.execute("DROP FUNCTION IF EXISTS twin_create_partition(text, text, timestamptz, timestamptz)")
    op.drop_table("audit_chain")
    op.drop_constraint(op.f("uq_audit_log_seq"), "audit_log", type_="unique")
    op.drop_column("audit_log", "mac")
    op.drop_column("audit_log", "seq")
