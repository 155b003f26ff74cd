"""Imports: the import jobs, and the GIS features of each site's layers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from twin.store.ltree import LTree

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the import jobs and the GIS features, with GiST indexes on paths and geometry."""
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("path", LTree(), nullable=True),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("warning_count", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('ifc', 'gis')", name=op.f("ck_import_jobs_kind")),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_import_jobs_status")),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name=op.f("ck_import_jobs_progress")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_import_jobs_site_id_sites"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index("ix_import_jobs_path", "import_jobs", ["path"], unique=False, postgresql_using="gist")
    op.create_index("ix_import_jobs_site", "import_jobs", ["site_id", "created_at"], unique=False)
    op.create_table(
        "gis_features",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("path", LTree(), nullable=False),
        sa.Column("layer", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("feature_index", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device_kind", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="GEOMETRY",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=False,
        ),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=True),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_gis_features_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_jobs.id"], name=op.f("fk_gis_features_import_id_import_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_gis_features_place_id_places"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_gis_features_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gis_features")),
    )
    op.create_index("ix_gis_features_geom", "gis_features", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_gis_features_place", "gis_features", ["place_id"], unique=False)
    op.create_index("ix_gis_features_site_layer", "gis_features", ["site_id", "layer"], unique=False)


def downgrade() -> None:
    """Drop the GIS features and the import jobs."""
    op.drop_index("ix_gis_features_site_layer", table_name="gis_features")
    op.drop_index("ix_gis_features_place", table_name="gis_features")
    op.drop_index("ix_gis_features_geom", table_name="gis_features", postgresql_using="gist")
    op.drop_table("gis_features")
    op.drop_index("ix_import_jobs_site", table_name="import_jobs")
    op.drop_index("ix_import_jobs_path", table_name="import_jobs", postgresql_using="gist")
    op.drop_table("import_jobs")
