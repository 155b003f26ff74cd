"""Changes an import makes that the graph's use cases do not: retire a place, revive, reshape, re-announce.

Re-importing a model moves, reshapes and retires places by GlobalId. Each change here is what a
use case would do — the row changed, a registry event recorded for after the commit, an audit
row with the state before and after — so listeners and auditors cannot tell an import's change
from a person's.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from twin.audit import audit, snapshot
from twin.events import Action, RegistryEvent, record
from twin.graph.frame import local_frame_proj
from twin.graph.geometry import from_db
from twin.graph.paths import scopes
from twin.store.base import utcnow
from twin.store.models import BuildingRow, DeviceRow, PlaceRow, SiteRow, SpaceRow, WalkEdgeRow

MOVE_TOLERANCE_M = 0.001
"""Geometry that moved less than this is the same geometry (float noise, not a change)."""


def announce(session: Session, action: Action, row: PlaceRow | DeviceRow, before: dict[str, Any] | None) -> None:
    """Record the registry event and the audit row of a change already made to ``row``."""
    session.flush()
    if isinstance(row, DeviceRow):
        kind, path = "device", scopes(row.path, row.id)
        data = {"name": row.name, "kind": row.kind}
    else:
        kind, path, data = row.kind, scopes(row.path), {"name": row.name}
    record(session, RegistryEvent(action, kind, row.id, path, data))
    audit(session, action=f"{kind}.{action}", kind=kind, object_id=row.id, before=before, after=snapshot(row))


def same_geometry(stored: Any, new: BaseGeometry | None) -> bool:
    """Tell whether a stored geometry and a new one are the same within a millimetre."""
    old = from_db(stored)
    if old is None or new is None:
        return old is None and new is None
    return bool(shapely.equals_exact(old, new, tolerance=MOVE_TOLERANCE_M))


def keep_others(row: PlaceRow | DeviceRow, mine: dict[str, Any]) -> dict[str, Any]:
    """Return a row's properties with an importer's keys replaced and everyone else's kept.

    A device's ``ifc`` keys come from its model, its ``mqtt`` keys from the live binding, a
    building's ``gis`` link from its footprint: a re-import replaces only its own.
    """
    return {**(row.properties or {}), **mine}


def retire_place(session: Session, row: PlaceRow) -> None:
    """Retire a place: it stays, with what hangs on it, marked as no longer built; routes avoid it."""
    if row.retired_at is not None:
        return
    before = snapshot(row)
    row.retired_at = utcnow()
    if isinstance(row, SpaceRow):
        session.execute(
            delete(WalkEdgeRow).where((WalkEdgeRow.from_space_id == row.id) | (WalkEdgeRow.to_space_id == row.id))
        )
    announce(session, "retire", row, before)


def revive(session: Session, row: PlaceRow | DeviceRow) -> None:
    """Bring back a retired place or device whose element appears again in a new version of its model."""
    if row.retired_at is None:
        return
    before = snapshot(row)
    row.retired_at = None
    if isinstance(row, DeviceRow):
        row.health = "unknown"
    announce(session, "update", row, before)


def owned_by(session: Session, site_id: int, key: str, value: str) -> tuple[list[PlaceRow], list[DeviceRow]]:
    """Return the places and devices of a site whose ``properties[key]['model']`` is ``value``, retired too."""
    marker = PlaceRow.properties[key]["model"].astext == value
    places = list(session.scalars(select(PlaceRow).where(PlaceRow.site_id == site_id, marker)))
    device_marker = DeviceRow.properties[key]["model"].astext == value
    devices = list(session.scalars(select(DeviceRow).where(DeviceRow.site_id == site_id, device_marker)))
    return places, devices


def edges_touching(session: Session, space_ids: list[int]) -> list[WalkEdgeRow]:
    """Return the walking edges that touch any of these spaces."""
    if not space_ids:
        return []
    stmt = select(WalkEdgeRow).where(WalkEdgeRow.from_space_id.in_(space_ids) | WalkEdgeRow.to_space_id.in_(space_ids))
    return list(session.scalars(stmt))


def derive_footprint(session: Session, row: BuildingRow, site: SiteRow) -> None:
    """Recompute a building's map footprint from its local one, in PostGIS, with the site's frame."""
    session.flush()
    proj = local_frame_proj(site.origin_lat, site.origin_lon, site.origin_height)
    session.execute(
        text(
            "UPDATE buildings SET footprint = ST_Transform(ST_SetSRID(footprint_local, 0), :proj, 4326) WHERE id = :id"
        ),
        {"proj": proj, "id": row.id},
    )
    session.expire(row, ["footprint"])


def delete_walk_edge(session: Session, edge: WalkEdgeRow) -> None:
    """Remove a walking edge whose door, stair or lift is gone; edges carry no history to keep."""
    space = session.get(SpaceRow, edge.from_space_id)
    before = {"from": edge.from_space_id, "to": edge.to_space_id, "kind": edge.kind, "via": edge.via}
    session.delete(edge)
    session.flush()
    record(session, RegistryEvent("delete", "walk_edge", edge.id, scopes(space.path) if space else (), before))
    audit(session, action="walk_edge.delete", kind="walk_edge", object_id=edge.id, before=before)
