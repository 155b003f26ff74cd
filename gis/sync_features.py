"""Points of interest into devices on the site, every feature into the site's layer, the dropped retired.

Hydrants, gates, chargers and AED cabinets become devices of the site at their location (site
frame, ground level), so alarms and tickets can hang on them like on any device. Every feature
of the layer — these too — is kept as it came in ``gis_features`` for the map, naming the node
it became; a re-import replaces the layer's rows and retires the nodes whose features are gone.
"""

from __future__ import annotations

import math
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import delete, insert

from gis.kinds import FeatureKind
from gis.model import GisFeature
from gis.sync import LayerSync
from twin.audit import snapshot
from twin.catalogue import DEVICE_KINDS, DeviceKind
from twin.graph.devices import create_device, retire_device, update_device
from twin.graph.geometry import from_db
from twin.imports.changes import MOVE_TOLERANCE_M, announce, keep_others, retire_place, revive
from twin.schemas import DeviceCreate, DeviceUpdate
from twin.store.gis_layers import GisFeatureRow
from twin.store.models import BuildingRow, DeviceRow


def write_devices(state: LayerSync) -> None:
    """Create or update a device of the site for every point of interest that is a device."""
    for feature in state.layer.of_kind(FeatureKind.DEVICE):
        kind = feature.device_kind or DeviceKind.OTHER
        sid = state.sid(feature)
        point = feature.geometry if isinstance(feature.geometry, Point) else feature.geometry.representative_point()
        east, north = state.frame.to_local(point).coords[0][:2]
        position = (round(float(east), 4), round(float(north), 4), 0.0)
        name = state.mapping.name(feature.attributes) or f"{DEVICE_KINDS[kind].label.zh} {sid}"
        values: dict[str, Any] = {
            "kind": kind.value,
            "name": " ".join(name.split())[:200] or sid,
            "properties": {"gis": state.marker(sid, dict(feature.attributes))},
        }
        row = state.existing.get(state.key(sid))
        if not isinstance(row, DeviceRow):
            created = create_device(
                state.session,
                DeviceCreate(
                    place_id=state.site.id,
                    kind=kind,
                    name=values["name"],
                    position=position,
                    properties=values["properties"],
                    identifiers=state.identity(sid),
                ),
            )
            state.devices[sid] = created.id
            state.changes.added.append(sid)
            continue
        state.devices[sid] = row.id
        if row.retired_at is not None:
            revive(state.session, row)
            state.changes.added.append(sid)
        _update(state, row, sid, position, values)


def _update(
    state: LayerSync, row: DeviceRow, sid: str, position: tuple[float, float, float], values: dict[str, Any]
) -> None:
    values["properties"] = keep_others(row, values["properties"])
    old = from_db(row.position_local)
    distance = math.dist((old.x, old.y, old.z if old.has_z else 0.0), position) if old is not None else math.inf
    changed = {key for key, value in values.items() if getattr(row, key) != value}
    if distance > MOVE_TOLERANCE_M:
        row.kind = values["kind"]
        update = DeviceUpdate(
            place_id=state.site.id, position=position, name=values["name"], properties=values["properties"]
        )
        update_device(state.session, row.id, update)
        state.changes.moved.append(sid)
    elif changed:
        before = snapshot(row)
        for key in changed:
            setattr(row, key, values[key])
        announce(state.session, "update", row, before)
        state.changes.changed.append(sid)
    else:
        state.changes.unchanged += 1


def retire_missing(state: LayerSync) -> None:
    """Retire the devices and the GIS-made buildings of this layer whose features are gone."""
    kept = {state.key(sid) for sid in (*state.places, *state.devices)}
    for key, row in state.existing.items():
        if key in kept or row.retired_at is not None:
            continue
        sid = key.split(":", 2)[-1]
        if isinstance(row, DeviceRow):
            retire_device(state.session, row.id)
            state.changes.retired.append(sid)
        elif isinstance(row, BuildingRow) and "ifc" not in (row.properties or {}):
            retire_place(state.session, row)
            state.changes.retired.append(sid)


def write_rows(state: LayerSync) -> int:
    """Replace the layer's feature rows with this import's features; return how many were written."""
    state.session.execute(
        delete(GisFeatureRow).where(GisFeatureRow.site_id == state.site.id, GisFeatureRow.layer == state.name)
    )
    rows = [_row(state, feature) for feature in state.layer.features]
    if rows:
        state.session.execute(insert(GisFeatureRow), rows)
    return len(rows)


def _row(state: LayerSync, feature: GisFeature) -> dict[str, Any]:
    sid = state.sid(feature)
    name = state.mapping.name(feature.attributes)
    return {
        "site_id": state.site.id,
        "path": state.site.path,
        "layer": state.name,
        "source_id": sid[:200],
        "feature_index": feature.index,
        "kind": feature.kind.value,
        "device_kind": feature.device_kind.value if feature.device_kind else None,
        "name": name[:200] if name else None,
        "geom": from_shape(feature.geometry, srid=4326),
        "attrs": dict(feature.attributes),
        "place_id": state.places.get(sid),
        "device_id": state.devices.get(sid),
        "import_id": state.job_id,
    }
