"""The spatial graph's tables: places (site, building, floor, space), devices and their links.

One ``places`` table holds every level with its materialised path, so that "everything under
building 3" is one indexed query whatever the level; the attributes only one level has live in
its own table (joined-table inheritance). Geometry that the map needs is in EPSG:4326; geometry
inside a site is in that site's local metric frame (SRID 0: east, north, up in metres), where
distances are plain metres.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twin.store.base import Base, Timestamped
from twin.store.ltree import LTree


def _geom(kind: str, srid: int) -> Geometry:
    # Spatial indexes are created by the migrations, by name, never implicitly.
    return Geometry(kind, srid=srid, spatial_index=False)


class PlaceRow(Timestamped, Base):
    """A node of the hierarchy: its level, parent, path and the names people use for it."""

    __tablename__ = "places"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    site_id: Mapped[int | None] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(LTree())
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "place"}
    __table_args__: tuple[object, ...] = (
        CheckConstraint("kind IN ('site', 'building', 'floor', 'space')", name="kind"),
        CheckConstraint("(kind = 'site') = (parent_id IS NULL)", name="root_is_site"),
        Index("ix_places_path", "path", postgresql_using="gist"),
        Index("ix_places_parent", "parent_id"),
    )


class SiteRow(PlaceRow):
    """A community: its geodetic origin defines the local metric frame of everything in it."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    origin_lat: Mapped[float] = mapped_column(Float)
    origin_lon: Mapped[float] = mapped_column(Float)
    origin_height: Mapped[float] = mapped_column(Float, default=0.0)
    boundary: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON", 4326), nullable=True)
    __mapper_args__ = {"polymorphic_identity": "site"}
    __table_args__ = (Index("ix_sites_boundary", "boundary", postgresql_using="gist"),)


class BuildingRow(PlaceRow):
    """A building: its footprint on the map and in the site frame, and its height."""

    __tablename__ = "buildings"
    id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    footprint: Mapped[Any] = mapped_column(_geom("POLYGON", 4326), nullable=True)
    footprint_local: Mapped[Any] = mapped_column(_geom("POLYGON", 0), nullable=True)
    height: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    floors_above: Mapped[int | None] = mapped_column(Integer)
    floors_below: Mapped[int | None] = mapped_column(Integer)
    __mapper_args__ = {"polymorphic_identity": "building"}
    __table_args__ = (Index("ix_buildings_footprint", "footprint", postgresql_using="gist"),)


class FloorRow(PlaceRow):
    """A storey: level (negative below ground), elevation and height in metres, outline."""

    __tablename__ = "floors"
    id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    elevation: Mapped[float] = mapped_column(Float)
    height: Mapped[float] = mapped_column(Float, default=3.0)
    outline_local: Mapped[Any] = mapped_column(_geom("POLYGON", 0), nullable=True)
    __mapper_args__ = {"polymorphic_identity": "floor"}
    __table_args__ = (UniqueConstraint("building_id", "level", name="uq_floors_building_level"),)


class SpaceRow(PlaceRow):
    """A room, corridor, unit or zone on a floor; a unit carries its Chinese address parts."""

    __tablename__ = "spaces"
    id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    floor_id: Mapped[int] = mapped_column(ForeignKey("floors.id", ondelete="CASCADE"))
    space_kind: Mapped[str] = mapped_column(String(32))
    polygon_local: Mapped[Any] = mapped_column(_geom("POLYGON", 0), nullable=True)
    area: Mapped[float | None] = mapped_column(Float)
    building_no: Mapped[str | None] = mapped_column(String(16))
    entrance_no: Mapped[str | None] = mapped_column(String(16))
    room_no: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))
    """Normalised as ``楼栋-单元-房号`` (3-2-1801); the floor is in the room number."""
    __mapper_args__ = {"polymorphic_identity": "space"}
    __table_args__ = (
        Index("ix_spaces_address", "address"),
        Index("ix_spaces_floor", "floor_id"),
        Index("ix_spaces_polygon", "polygon_local", postgresql_using="gist"),
    )


class DeviceRow(Timestamped, Base):
    """A device, placed in a space or on a floor; its path is the path of its container."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    floor_id: Mapped[int | None] = mapped_column(ForeignKey("floors.id", ondelete="RESTRICT"))
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(LTree())
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    tag: Mapped[str | None] = mapped_column(String(64))
    position_local: Mapped[Any] = mapped_column(_geom("POINTZ", 0), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    place: Mapped[PlaceRow] = relationship(foreign_keys=[place_id], lazy="raise")
    __table_args__ = (
        Index("ix_devices_path", "path", postgresql_using="gist"),
        Index("ix_devices_position", "position_local", postgresql_using="gist"),
        Index("ix_devices_floor_kind", "floor_id", "kind"),
        Index("ix_devices_site_kind", "site_id", "kind"),
        Index("ix_devices_tag", "tag"),
    )


class IdentifierRow(Base):
    """An external name of a place or device: (namespace, value), e.g. ("ifc", GlobalId), ("mqtt", id)."""

    __tablename__ = "identifiers"
    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    __table_args__ = (
        CheckConstraint("(place_id IS NULL) <> (device_id IS NULL)", name="one_target"),
        Index("ix_identifiers_device", "device_id"),
        Index("ix_identifiers_place", "place_id"),
    )


class RelationRow(Base):
    """A typed link beyond containment: a pump feeds floors, a sensor monitors a device, a device via a gateway."""

    __tablename__ = "relations"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    target_place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    target_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    __table_args__ = (
        CheckConstraint("(target_place_id IS NULL) <> (target_device_id IS NULL)", name="one_target"),
        CheckConstraint("target_device_id IS NULL OR target_device_id <> source_device_id", name="not_self"),
        UniqueConstraint("kind", "source_device_id", "target_place_id", "target_device_id", name="uq_relations_link"),
        Index("ix_relations_target_place", "target_place_id"),
        Index("ix_relations_target_device", "target_device_id"),
    )


class WalkEdgeRow(Base):
    """A way a person walks between two spaces: a door, an opening, a stair, an elevator or an outdoor path."""

    __tablename__ = "walk_edges"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    from_space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    to_space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    length: Mapped[float] = mapped_column(Float)
    via: Mapped[str | None] = mapped_column(String(200))
    __table_args__ = (
        CheckConstraint("kind IN ('door', 'opening', 'stair', 'elevator', 'path')", name="kind"),
        CheckConstraint("from_space_id <> to_space_id", name="not_self"),
        CheckConstraint("length >= 0", name="length"),
        UniqueConstraint("from_space_id", "to_space_id", "kind", name="uq_walk_edges_pair"),
        Index("ix_walk_edges_site", "site_id"),
    )
