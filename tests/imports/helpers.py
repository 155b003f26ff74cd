"""What the import tests compare: the whole graph as rows, counts per site, and IFC counts by ifcopenshell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ifcopenshell
from sqlalchemy import Engine, text

GRAPH_TABLES = (
    "places",
    "sites",
    "buildings",
    "floors",
    "spaces",
    "devices",
    "identifiers",
    "relations",
    "walk_edges",
    "gis_features",
)
DEVICE_CLASSES = ("IfcDistributionElement", "IfcTransportElement")
NETWORK_CLASSES = ("IfcFlowSegment", "IfcFlowFitting", "IfcDistributionPort")


def graph_rows(engine: Engine) -> dict[str, list[str]]:
    """Return every row of the graph's tables as text, sorted: equal snapshots mean an unchanged store."""
    with engine.connect() as conn:
        return {
            table: sorted(repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}")))
            for table in GRAPH_TABLES
        }


def active_counts(engine: Engine, site_id: int) -> dict[str, int]:
    """Return how many buildings, floors, spaces and devices a site holds, retired ones left out."""
    with engine.connect() as conn:
        places = dict(
            conn.execute(
                text("SELECT kind, count(*) FROM places WHERE site_id = :s AND retired_at IS NULL GROUP BY kind"),
                {"s": site_id},
            ).all()
        )
        devices = conn.execute(
            text("SELECT count(*) FROM devices WHERE site_id = :s AND retired_at IS NULL"), {"s": site_id}
        ).scalar_one()
    return {
        "buildings": places.get("building", 0),
        "floors": places.get("floor", 0),
        "spaces": places.get("space", 0),
        "devices": int(devices),
    }


def ifc_counts(path: Path) -> dict[str, int]:
    """Return what ifcopenshell itself counts: storeys, spaces, and devices (distribution and transport
    elements, networks of pipes, ducts and cables left out)."""
    model = ifcopenshell.open(str(path))
    devices = {
        e.id()
        for cls in DEVICE_CLASSES
        for e in model.by_type(cls)
        if not any(e.is_a(n) for n in NETWORK_CLASSES)
    }
    return {
        "floors": len(model.by_type("IfcBuildingStorey")),
        "spaces": len(model.by_type("IfcSpace")),
        "devices": len(devices),
    }


def one(engine: Engine, sql: str, **params: Any) -> Any:
    """Return the single value a query gives."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()
