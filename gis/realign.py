"""``twin georef align``: fit a BIM building onto its GIS footprint and move everything it holds.

The fit (:func:`gis.align.align_outline`, rotation and translation in the site frame) is applied
in PostGIS to the building's footprint, its floors' outlines, its spaces and the positions of
every device under it — one ``ST_Affine`` per table over the building's subtree — and composed
into the building's ``alignment``, so the GLBs follow (``model_to_site``) and a re-import of the
model keeps the building where it was fitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.align import align_outline
from gis.errors import GisError
from gis.frame import LocalFrame
from twin.audit import audit
from twin.errors import TwinError
from twin.events import RegistryEvent, record
from twin.graph.paths import scopes
from twin.graph.places import get_place
from twin.imports.changes import derive_footprint
from twin.store.gis_layers import GisFeatureRow
from twin.store.models import BuildingRow, SiteRow

_MOVES = {
    "floors": "UPDATE floors t SET outline_local = ST_Affine(t.outline_local, :a, :b, :d, :e, :x, :y) "
    "FROM places p WHERE p.id = t.id AND p.path <@ CAST(:path AS ltree) AND t.outline_local IS NOT NULL "
    "RETURNING t.id, p.path",
    "spaces": "UPDATE spaces t SET polygon_local = ST_Affine(t.polygon_local, :a, :b, :d, :e, :x, :y) "
    "FROM places p WHERE p.id = t.id AND p.path <@ CAST(:path AS ltree) AND t.polygon_local IS NOT NULL "
    "RETURNING t.id, p.path",
    "devices": "UPDATE devices t SET position_local = ST_Affine(t.position_local, :a, :b, :d, :e, :x, :y) "
    "WHERE t.path <@ CAST(:path AS ltree) AND t.position_local IS NOT NULL RETURNING t.id, t.path",
}
_FOOTPRINT = "UPDATE buildings SET footprint_local = ST_Affine(footprint_local, :a, :b, :d, :e, :x, :y) WHERE id = :id"
_KIND = {"floors": "floor", "spaces": "space", "devices": "device"}


def align_building(session: Session, building: str, *, apply: bool = True) -> dict[str, Any]:
    """Fit a building onto its linked footprint; move it when ``apply``; return the difference and fit."""
    row = _building(session, building)
    site = session.get(SiteRow, row.site_id)
    feature = session.scalar(
        select(GisFeatureRow)
        .where(GisFeatureRow.place_id == row.id, GisFeatureRow.kind == "footprint")
        .order_by(GisFeatureRow.id.desc())
        .limit(1)
    )
    if feature is None:
        raise TwinError(
            f"building {row.id} ({row.name}) has no GIS footprint linked to it",
            "import the site's footprints first: twin import-gis FILE --site SITE --kind footprints",
        )
    if row.footprint is None or site is None:
        raise TwinError(f"building {row.id} ({row.name}) has no outline to fit (its model has no spaces)")
    frame = LocalFrame(site.origin_lat, site.origin_lon, site.origin_height)
    try:
        fit = align_outline(to_shape(row.footprint), to_shape(feature.geom), frame=frame)
    except GisError as exc:
        raise TwinError(f"building {row.id} ({row.name}): {exc}") from exc
    result: dict[str, Any] = {
        "building_id": row.id,
        "name": row.name,
        "footprint": feature.source_id,
        "offset_m": round(fit.offset_m, 3),
        "offset_east_m": round(fit.offset_east_m, 3),
        "offset_north_m": round(fit.offset_north_m, 3),
        "rotation_deg": round(fit.rotation_deg, 4),
        "residual_m": round(fit.residual_m, 4),
        "iou_before": round(fit.iou_before, 4),
        "iou_after": round(fit.iou_after, 4),
        "applied": apply,
    }
    if apply:
        result["moved"] = _move(session, row, site, np.asarray(fit.transform.matrix()))
    return result


def _building(session: Session, ref: str) -> BuildingRow:
    if ref.strip().isdigit():
        return get_place(session, BuildingRow, int(ref), "building")
    found = list(
        session.scalars(
            select(BuildingRow).where(BuildingRow.name == ref.strip(), BuildingRow.retired_at.is_(None)).limit(5)
        )
    )
    if len(found) != 1:
        ids = ", ".join(str(b.id) for b in found)
        raise TwinError(
            f"{len(found) or 'no'} buildings are named {ref!r}" + (f" ({ids})" if ids else ""),
            "give the building's id",
        )
    return found[0]


def _move(session: Session, row: BuildingRow, site: SiteRow, matrix: np.ndarray) -> dict[str, int]:
    """Apply a 3×3 site-frame transform to a building's subtree; record events and one audit row."""
    params = {
        "a": float(matrix[0, 0]),
        "b": float(matrix[0, 1]),
        "x": float(matrix[0, 2]),
        "d": float(matrix[1, 0]),
        "e": float(matrix[1, 1]),
        "y": float(matrix[1, 2]),
    }
    session.flush()
    session.execute(text(_FOOTPRINT), params | {"id": row.id})
    moved: dict[str, int] = {}
    for table, sql in _MOVES.items():
        changed = session.execute(text(sql), params | {"path": row.path}).all()
        moved[table] = len(changed)
        for item_id, path in changed:
            device = item_id if table == "devices" else None
            record(session, RegistryEvent("update", _KIND[table], item_id, scopes(path, device), {"aligned": True}))
    session.expire(row)
    derive_footprint(session, row, site)
    bim = dict((row.properties or {}).get("bim") or {})
    before = {"alignment": bim.get("alignment"), "model_to_site": bim.get("model_to_site")}
    previous = np.asarray(bim.get("alignment") or np.eye(3), dtype=float)
    bim["alignment"] = np.round(matrix @ previous, 12).tolist()
    if bim.get("model_to_site"):
        lifted = np.eye(4)
        lifted[:2, :2], lifted[:2, 3] = matrix[:2, :2], matrix[:2, 2]
        bim["model_to_site"] = np.round(lifted @ np.asarray(bim["model_to_site"], dtype=float), 12).tolist()
    row.properties = {**(row.properties or {}), "bim": bim}
    session.flush()
    record(session, RegistryEvent("update", "building", row.id, scopes(row.path), {"name": row.name, "aligned": True}))
    after = {"alignment": bim["alignment"], "model_to_site": bim.get("model_to_site"), "moved": moved}
    audit(session, action="building.align", kind="building", object_id=row.id, before=before, after=after)
    return moved
