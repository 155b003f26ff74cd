"""Security notices: a commit that changes an account, a grant or a granted place's path says so.

The server keeps the principals it built between requests (``twin.auth.principal_cache``) and
must forget them when any process changes what they were built from. Statement-level triggers
send ``NOTIFY twin_security`` (delivered at commit, one per transaction however many rows), so
changes made by the CLI, another server or hand-written SQL are heard as well as the server's own.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGGERS = {
    "users": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "grants": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "places": "UPDATE OF path OR DELETE OR TRUNCATE",
}
"""What changes a principal: the account, its grants, and the path of a place a grant may name."""


def upgrade() -> None:
    """Create the notifying function and one statement-level trigger per table."""
    op.execute(
        """
        CREATE FUNCTION twin_security_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('twin_security', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table, events in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_security_changed AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION twin_security_changed()"
        )


def downgrade() -> None:
    """Drop the triggers and their function."""
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_security_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS twin_security_changed()")
