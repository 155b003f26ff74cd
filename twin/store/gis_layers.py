"""GIS layers kept as they came: roads, green areas, parking, zones, parcels — and the rest, for the map.

Every feature of an imported layer is a row, in WGS84 with its attributes. Footprints and points
of interest also become buildings and devices of the graph; their rows name what they became
(``place_id``, ``device_id``), so the map and the graph point at each other. A re-import of a
layer replaces its rows: features carry no history, the graph nodes they became do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store import imports, models  # noqa: F401  (the tables referred to)
from twin.store.base import Base
from twin.store.ltree import LTree


class GisFeatureRow(Base):
    """One feature of a site's layer: kind, name, WGS84 geometry, attributes, and the node it became."""

    __tablename__ = "gis_features"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(LTree())
    """The site's path, for the scope filter every place-bound row gets."""
    layer: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(200))
    feature_index: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    device_kind: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_gis_features_site_layer", "site_id", "layer"),
        Index("ix_gis_features_geom", "geom", postgresql_using="gist"),
        Index("ix_gis_features_place", "place_id"),
    )
