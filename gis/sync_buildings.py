"""Footprints into buildings: linked to the BIM buildings they outline, or buildings of their own.

A footprint linked to a BIM building (by a declared ``bim_id`` holding its GlobalId, a unique
name, or overlap) names that building and reports how far the building's georeference puts it
from its footprint, in metres and degrees (``twin georef align`` fits it). A footprint with no
BIM becomes a building extruded to its height, so a community shows in 3D from GIS alone.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from gis.align import align_outline
from gis.errors import GisError
from gis.kinds import FeatureKind
from gis.linking import BimBuilding, FootprintLink, link_footprints
from gis.model import GisFeature
from gis.polygons import largest_polygon
from gis.sync import LayerSync
from twin.audit import snapshot
from twin.graph.geometry import LOCAL_SRID, to_db
from twin.graph.identifiers import bind_identifiers
from twin.graph.places import create_building
from twin.imports.changes import announce, derive_footprint, keep_others, revive, same_geometry
from twin.schemas import BuildingCreate
from twin.store.models import BuildingRow

OFF_M = 1.0
OFF_DEG = 1.0
"""A linked building further than this from its footprint is reported as misplaced."""


def write_footprints(state: LayerSync) -> None:
    """Link, create or update a building for every footprint of the layer."""
    footprints = state.layer.of_kind(FeatureKind.FOOTPRINT)
    fresh = [f for f in footprints if state.key(state.sid(f)) not in state.existing]
    candidates = _bim_buildings(state)
    report = link_footprints(fresh, [b for b, _ in candidates])
    rows = {b.id: row for b, row in candidates}
    links = {link.feature_index: link for link in report.links}
    for feature in footprints:
        row = state.existing.get(state.key(state.sid(feature)))
        if isinstance(row, BuildingRow):
            _update(state, feature, row)
        elif feature.index in links:
            _link(state, feature, rows[links[feature.index].building_id], links[feature.index])
        else:
            _create(state, feature)


def _bim_buildings(state: LayerSync) -> list[tuple[BimBuilding, BuildingRow]]:
    """Return the site's BIM buildings with an outline that no feature of this layer names yet."""
    taken = {row.id for row in state.existing.values()}
    stmt = select(BuildingRow).where(
        BuildingRow.site_id == state.site.id,
        BuildingRow.retired_at.is_(None),
        BuildingRow.footprint.is_not(None),
        BuildingRow.properties.has_key("ifc"),
    )
    out = []
    for row in state.session.scalars(stmt):
        if row.id not in taken:
            global_id = str(row.properties["ifc"].get("global_id") or row.id)
            out.append((BimBuilding(global_id, row.name, to_shape(row.footprint)), row))
    return out


def _local(state: LayerSync, feature: GisFeature) -> BaseGeometry | None:
    polygon = largest_polygon(feature.geometry)
    if polygon is None:
        state.warnings.append(f"feature {feature.index} ({state.sid(feature)}): a footprint without an area, left out")
        return None
    parts = len(getattr(feature.geometry, "geoms", [feature.geometry]))
    if parts > 1:
        state.warnings.append(f"feature {feature.index}: footprint of {parts} parts; its largest is the building")
    return largest_polygon(state.frame.to_local(polygon))


def _values(state: LayerSync, feature: GisFeature) -> dict[str, Any]:
    sid = state.sid(feature)
    height = feature.height_m if feature.height_m is not None and 0 < feature.height_m <= 1000 else None
    levels = round(feature.levels) if feature.levels is not None and 0 < feature.levels <= 300 else None
    name = state.mapping.name(feature.attributes) or f"{state.name} {sid}"
    return {
        "name": " ".join(name.split())[:200] or sid,
        "height": height,
        "floors_above": levels,
        "properties": {"gis": state.marker(sid, dict(feature.attributes))},
    }


def _create(state: LayerSync, feature: GisFeature) -> None:
    polygon = _local(state, feature)
    if polygon is None:
        return
    sid = state.sid(feature)
    row = create_building(
        state.session,
        BuildingCreate(
            site_id=state.site.id,
            footprint_local=mapping(polygon),
            identifiers=state.identity(sid),
            **_values(state, feature),
        ),
    )
    state.places[sid] = row.id
    state.changes.added.append(sid)


def _update(state: LayerSync, feature: GisFeature, row: BuildingRow) -> None:
    sid = state.sid(feature)
    state.places[sid] = row.id
    if row.retired_at is not None:
        revive(state.session, row)
        state.changes.added.append(sid)
    if "ifc" in (row.properties or {}):
        _check_georef(state, feature, row, method="previous link", score=None)
        return
    polygon = _local(state, feature)
    values = _values(state, feature)
    values["properties"] = keep_others(row, values["properties"])
    changed = {key for key, value in values.items() if getattr(row, key) != value}
    reshaped = polygon is not None and not same_geometry(row.footprint_local, polygon)
    if not changed and not reshaped:
        state.changes.unchanged += 1
        return
    before = snapshot(row)
    for key in changed:
        setattr(row, key, values[key])
    if reshaped:
        row.footprint_local = to_db(polygon, LOCAL_SRID)
        derive_footprint(state.session, row, state.site)
    announce(state.session, "update", row, before)
    (state.changes.moved if reshaped else state.changes.changed).append(sid)


def _link(state: LayerSync, feature: GisFeature, row: BuildingRow, link: FootprintLink) -> None:
    sid = state.sid(feature)
    bind_identifiers(state.session, state.identity(sid), place_id=row.id)
    before = snapshot(row)
    marker = state.marker(sid, dict(feature.attributes))
    row.properties = {**row.properties, "gis": marker | {"link": {"method": link.method.value, "score": link.score}}}
    announce(state.session, "update", row, before)
    state.places[sid] = row.id
    _check_georef(state, feature, row, method=link.method.value, score=link.score)


def _check_georef(state: LayerSync, feature: GisFeature, row: BuildingRow, method: str, score: float | None) -> None:
    """Report how far a BIM building stands from its footprint: offset in metres, rotation in degrees."""
    sid = state.sid(feature)
    entry: dict[str, Any] = {"feature": feature.index, "source_id": sid, "building_id": row.id, "method": method}
    entry["score"] = score
    try:
        fit = align_outline(to_shape(row.footprint), feature.geometry, frame=state.frame)
    except GisError as exc:
        state.warnings.append(f"building {row.id} ({row.name}) and footprint {sid}: {exc}")
        state.links.append(entry)
        return
    entry |= {
        "offset_m": round(fit.offset_m, 3),
        "rotation_deg": round(fit.rotation_deg, 3),
        "residual_m": round(fit.residual_m, 3),
        "iou": round(fit.iou_before, 4),
    }
    state.links.append(entry)
    if fit.offset_m > OFF_M or abs(fit.rotation_deg) > OFF_DEG:
        state.warnings.append(
            f"building {row.id} ({row.name}) stands {fit.offset_m:.2f} m and {fit.rotation_deg:.2f}° off its "
            f"footprint {sid}: `twin georef align {row.id}` fits it"
        )
