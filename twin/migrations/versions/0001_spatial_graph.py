"""The spatial graph: places, devices, identifiers, relations and the walking graph.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from twin.store.ltree import LTree

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the graph's tables with GiST indexes on ltree paths and geometry."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS ltree")
    op.create_table(
        "places",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("path", LTree(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column(
            "properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'site') = (parent_id IS NULL)", name=op.f("ck_places_root_is_site")
        ),
        sa.CheckConstraint(
            "kind IN ('site', 'building', 'floor', 'space')",
            name=op.f("ck_places_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["places.id"],
            name=op.f("fk_places_parent_id_places"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
    )
    op.create_index("ix_places_parent", "places", ["parent_id"], unique=False)
    op.create_index(
        "ix_places_path", "places", ["path"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "buildings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "footprint_local",
            Geometry(
                geometry_type="POLYGON",
                srid=0,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("height", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("floors_above", sa.Integer(), nullable=True),
        sa.Column("floors_below", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"],
            ["places.id"],
            name=op.f("fk_buildings_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("origin_lat", sa.Float(), nullable=False),
        sa.Column("origin_lon", sa.Float(), nullable=False),
        sa.Column("origin_height", sa.Float(), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["places.id"], name=op.f("fk_sites_id_places"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "floors",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("building_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("elevation", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column(
            "outline_local",
            Geometry(
                geometry_type="POLYGON",
                srid=0,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_floors_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["places.id"], name=op.f("fk_floors_id_places"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floors")),
        sa.UniqueConstraint("building_id", "level", name="uq_floors_building_level"),
    )
    op.create_table(
        "spaces",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("floor_id", sa.BigInteger(), nullable=False),
        sa.Column("space_kind", sa.String(length=32), nullable=False),
        sa.Column(
            "polygon_local",
            Geometry(
                geometry_type="POLYGON",
                srid=0,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area", sa.Float(), nullable=True),
        sa.Column("building_no", sa.String(length=16), nullable=True),
        sa.Column("entrance_no", sa.String(length=16), nullable=True),
        sa.Column("room_no", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["floor_id"],
            ["floors.id"],
            name=op.f("fk_spaces_floor_id_floors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["places.id"], name=op.f("fk_spaces_id_places"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spaces")),
    )
    op.create_index("ix_spaces_address", "spaces", ["address"], unique=False)
    op.create_index("ix_spaces_floor", "spaces", ["floor_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=False),
        sa.Column("floor_id", sa.BigInteger(), nullable=True),
        sa.Column("space_id", sa.BigInteger(), nullable=True),
        sa.Column("path", LTree(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=True),
        sa.Column(
            "position_local",
            Geometry(
                geometry_type="POINTZ",
                srid=0,
                dimension=3,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["floor_id"],
            ["floors.id"],
            name=op.f("fk_devices_floor_id_floors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_devices_place_id_places"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_devices_site_id_sites"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_devices_space_id_spaces"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_index(
        "ix_devices_floor_kind", "devices", ["floor_id", "kind"], unique=False
    )
    op.create_index(
        "ix_devices_path", "devices", ["path"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_devices_position",
        "devices",
        ["position_local"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_devices_site_kind", "devices", ["site_id", "kind"], unique=False
    )
    op.create_index("ix_devices_tag", "devices", ["tag"], unique=False)
    op.create_table(
        "walk_edges",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("from_space_id", sa.BigInteger(), nullable=False),
        sa.Column("to_space_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("length", sa.Float(), nullable=False),
        sa.Column("via", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('door', 'opening', 'stair', 'elevator')",
            name=op.f("ck_walk_edges_kind"),
        ),
        sa.CheckConstraint(
            "from_space_id <> to_space_id", name=op.f("ck_walk_edges_not_self")
        ),
        sa.CheckConstraint("length >= 0", name=op.f("ck_walk_edges_length")),
        sa.ForeignKeyConstraint(
            ["from_space_id"],
            ["spaces.id"],
            name=op.f("fk_walk_edges_from_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_walk_edges_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_space_id"],
            ["spaces.id"],
            name=op.f("fk_walk_edges_to_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_edges")),
        sa.UniqueConstraint(
            "from_space_id", "to_space_id", "kind", name="uq_walk_edges_pair"
        ),
    )
    op.create_index("ix_walk_edges_site", "walk_edges", ["site_id"], unique=False)
    op.create_table(
        "identifiers",
        sa.Column("namespace", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("place_id", sa.BigInteger(), nullable=True),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(place_id IS NULL) <> (device_id IS NULL)",
            name=op.f("ck_identifiers_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_identifiers_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_identifiers_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("namespace", "value", name=op.f("pk_identifiers")),
    )
    op.create_index("ix_identifiers_device", "identifiers", ["device_id"], unique=False)
    op.create_index("ix_identifiers_place", "identifiers", ["place_id"], unique=False)
    op.create_table(
        "relations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_device_id", sa.BigInteger(), nullable=False),
        sa.Column("target_place_id", sa.BigInteger(), nullable=True),
        sa.Column("target_device_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(target_place_id IS NULL) <> (target_device_id IS NULL)",
            name=op.f("ck_relations_one_target"),
        ),
        sa.CheckConstraint(
            "target_device_id IS NULL OR target_device_id <> source_device_id",
            name=op.f("ck_relations_not_self"),
        ),
        sa.ForeignKeyConstraint(
            ["source_device_id"],
            ["devices.id"],
            name=op.f("fk_relations_source_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_device_id"],
            ["devices.id"],
            name=op.f("fk_relations_target_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_place_id"],
            ["places.id"],
            name=op.f("fk_relations_target_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relations")),
        sa.UniqueConstraint(
            "kind",
            "source_device_id",
            "target_place_id",
            "target_device_id",
            name="uq_relations_link",
        ),
    )
    op.create_index(
        "ix_relations_target_device", "relations", ["target_device_id"], unique=False
    )
    op.create_index(
        "ix_relations_target_place", "relations", ["target_place_id"], unique=False
    )
    op.create_index(
        "ix_buildings_footprint", "buildings", ["footprint"], postgresql_using="gist"
    )
    op.create_index(
        "ix_spaces_polygon", "spaces", ["polygon_local"], postgresql_using="gist"
    )
    op.create_index("ix_sites_boundary", "sites", ["boundary"], postgresql_using="gist")


def downgrade() -> None:
    """Drop the graph."""
    op.drop_index("ix_relations_target_place", table_name="relations")
    op.drop_index("ix_relations_target_device", table_name="relations")
    op.drop_table("relations")
    op.drop_index("ix_identifiers_place", table_name="identifiers")
    op.drop_index("ix_identifiers_device", table_name="identifiers")
    op.drop_table("identifiers")
    op.drop_index("ix_walk_edges_site", table_name="walk_edges")
    op.drop_table("walk_edges")
    op.drop_index("ix_devices_tag", table_name="devices")
    op.drop_index("ix_devices_site_kind", table_name="devices")
    op.drop_index("ix_devices_position", table_name="devices", postgresql_using="gist")
    op.drop_index("ix_devices_path", table_name="devices", postgresql_using="gist")
    op.drop_index("ix_devices_floor_kind", table_name="devices")
    op.drop_table("devices")
    op.drop_index("ix_spaces_floor", table_name="spaces")
    op.drop_index("ix_spaces_address", table_name="spaces")
    op.drop_table("spaces")
    op.drop_table("floors")
    op.drop_table("sites")
    op.drop_table("buildings")
    op.drop_index("ix_places_path", table_name="places", postgresql_using="gist")
    op.drop_index("ix_places_parent", table_name="places")
    op.drop_table("places")
