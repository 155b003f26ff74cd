"""The server's database role: it owns nothing, writes only rows, and may only append to the audit log.

Migrations run as the tables' owner; the server and the CLI connect as another role. An owner
(or a superuser) may alter a table, disable its triggers or bypass its row rules; a role that
owns nothing may not, so a compromised server cannot silence the audit log's append-only
trigger or rewrite its rows, whatever SQL it sends. The grants are (re)applied after every
``twin db upgrade``, so tables a migration adds are covered; default privileges cover the
history partitions the owner's ``twin_create_partition`` makes later.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from twin.errors import ServiceError

APPEND_ONLY = ("audit_log",)
"""Tables the server may read and append to, never change."""
READ_ONLY = ("alembic_version", "audit_chain")
"""Tables the server reads (the schema check, the audit log's legacy line), never writes."""
FUNCTIONS = (
    "twin_create_partition(text, text, timestamptz, timestamptz)",
    "twin_drop_partition(text, text)",
)
"""The owner's functions the server may call instead of DDL."""
ROW_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"

_TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT EXISTS "
    "(SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') "
    "ORDER BY c.relname"
)
"""The twin's own tables and partitions: not those of an extension (PostGIS's spatial_ref_sys)."""


def grant_app_role(conn: Connection, role: str) -> None:
    """Give ``role`` row rights on the twin's tables, append-only on the audit log, and nothing else.

    Idempotent: what the role held before is revoked first, so a right taken away in the code is
    taken away in the database at the next upgrade.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", role):
        raise ServiceError(f"invalid database role name {role!r}", "use lower-case letters, digits and _")
    owner = conn.execute(text("SELECT current_user")).scalar_one()
    if role == owner:
        return
    if conn.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        raise ServiceError(
            f"the server's database role {role} is a superuser or bypasses row security",
            f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS",
        )
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    # PostgreSQL 14 lets everyone create tables in public; a role that creates one owns it.
    conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
    for table in conn.execute(_TABLES).scalars():
        if table in APPEND_ONLY:
            rights = "SELECT, INSERT"
        elif table in READ_ONLY:
            rights = "SELECT"
        else:
            rights = ROW_RIGHTS
        conn.execute(text(f'GRANT {rights} ON "{table}" TO {role}'))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {ROW_RIGHTS} ON TABLES TO {role}"))
    for function in FUNCTIONS:
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {role}"))
