"""Sessions that end when they should, login throttles in the store, and normalised user names.

- ``users.token_version``, signed into every token: raised to end all of an account's sessions.
- ``auth_sessions``: one login and the refresh tokens rotated from it (a family). Ending one sends
  the security notice (migration 0007), so servers forget the principals that tolerated it.
- ``refresh_tokens.session_id``: the family of each token. Tokens issued before had none, so a
  reuse could not be traced to what was issued from it: they are dropped, and their holders log
  in again once.
- A grant written by anyone (the API, the CLI, hand-written SQL) raises its account's token
  version and ends its sessions, in the same transaction.
- ``login_throttles``: failed logins per (account, address) and per address, shared by every
  instance and cleared by ``twin user unlock``.
- User names become NFKC and lower case, where that makes no two alike (those are left for an
  administrator to rename).

Revision ID: 0008b
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008b"
down_revision = "0008d"
branch_labels = None
depends_on = None

GRANT_ENDS_SESSIONS = """
CREATE FUNCTION twin_grant_ends_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN account := OLD.user_id; ELSE account := NEW.user_id; END IF;
    UPDATE users SET token_version = token_version + 1 WHERE id = account;
    UPDATE auth_sessions SET revoked_at = now(), revoked_why = 'grants'
        WHERE user_id = account AND revoked_at IS NULL;
    IF TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id THEN
        UPDATE users SET token_version = token_version + 1 WHERE id = OLD.user_id;
        UPDATE auth_sessions SET revoked_at = now(), revoked_why = 'grants'
            WHERE user_id = OLD.user_id AND revoked_at IS NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER grants_end_sessions AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION twin_grant_ends_sessions();
CREATE TRIGGER auth_sessions_security_changed AFTER UPDATE OF revoked_at OR DELETE OR TRUNCATE ON auth_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION twin_security_changed();
"""

NORMALISE_NAMES = """
UPDATE users SET username = n.name
FROM (
    SELECT id, lower(normalize(username, NFKC)) AS name,
           count(*) OVER (PARTITION BY lower(normalize(username, NFKC))) AS alike
    FROM users
) AS n
WHERE users.id = n.id AND n.alike = 1 AND users.username <> n.name
"""


def upgrade() -> None:
    """Add the token version, the sessions, the throttles and the triggers; normalise the names."""
    op.add_column("users", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_why", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index("ix_auth_sessions_user", "auth_sessions", ["user_id"], unique=False)
    op.execute("DELETE FROM refresh_tokens")
    op.add_column("refresh_tokens", sa.Column("session_id", sa.BigInteger(), nullable=False))
    op.create_foreign_key(
        op.f("fk_refresh_tokens_session_id_auth_sessions"),
        "refresh_tokens",
        "auth_sessions",
        ["session_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index("ix_login_throttles_username", "login_throttles", ["username"], unique=False)
    op.execute(GRANT_ENDS_SESSIONS)
    op.execute(NORMALISE_NAMES)


def downgrade() -> None:
    """Drop what upgrade added (names stay normalised: the old spellings are not kept)."""
    op.execute("DROP TRIGGER IF EXISTS auth_sessions_security_changed ON auth_sessions")
    op.execute("DROP TRIGGER IF EXISTS grants_end_sessions ON grants")
    op.execute("DROP FUNCTION IF EXISTS twin_grant_ends_sessions()")
    op.drop_table("login_throttles")
    op.drop_constraint(op.f("fk_refresh_tokens_session_id_auth_sessions"), "refresh_tokens", type_="foreignkey")
    op.drop_column("refresh_tokens", "session_id")
    op.drop_index("ix_auth_sessions_user", table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_column("users", "token_version")
