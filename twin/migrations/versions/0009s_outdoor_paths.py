"""Walking edges may be outdoor paths: the walk between two buildings' entrances over the site's map.

Without them no route left a building (``twin.graph.outdoors`` makes them from the GIS roads and
footways and the entrances of the model).

Revision ID: 0009s
Revises: 0008g
"""

from alembic import op

revision = "0009s"
down_revision = "0008g"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let a walking edge's kind be ``path``."""
    op.drop_constraint(op.f("ck_walk_edges_kind"), "walk_edges", type_="check")
    op.create_check_constraint(
        op.f("ck_walk_edges_kind"), "walk_edges", "kind IN ('door', 'opening', 'stair', 'elevator', 'path')"
    )


def downgrade() -> None:
    """Drop the outdoor paths and the kind."""
    op.execute("DELETE FROM walk_edges WHERE kind = 'path'")
    op.drop_constraint(op.f("ck_walk_edges_kind"), "walk_edges", type_="check")
    op.create_check_constraint(
        op.f("ck_walk_edges_kind"), "walk_edges", "kind IN ('door', 'opening', 'stair', 'elevator')"
    )
