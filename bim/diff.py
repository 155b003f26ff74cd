"""Compare two versions of a model by GlobalId, so a re-import moves, adds and retires in place."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from bim.model import BimDiff, BimModel, Moved

MOVE_TOLERANCE_M = 0.001


def diff_models(old: BimModel, new: BimModel) -> BimDiff:
    """Return what changed from ``old`` to ``new``: added, removed, moved and changed GlobalIds."""
    before, after = _index(old), _index(new)
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    moved, changed = [], []
    for global_id in sorted(before.keys() & after.keys()):
        (old_where, old_rest), (new_where, new_rest) = before[global_id], after[global_id]
        distance = math.dist(old_where, new_where) if old_where and new_where else 0.0
        if distance > MOVE_TOLERANCE_M:
            moved.append(Moved(global_id, round(distance, 4)))
        if old_rest != new_rest:
            changed.append(global_id)
    return BimDiff(tuple(added), tuple(removed), tuple(moved), tuple(changed))


def _index(model: BimModel) -> dict[str, tuple[tuple[float, ...], dict[str, Any]]]:
    """Map each GlobalId to its location and the rest of its fields (location compared apart)."""
    index: dict[str, tuple[tuple[float, ...], dict[str, Any]]] = {}
    items: tuple[Any, ...] = (
        *model.sites,
        *model.buildings,
        *model.storeys,
        *model.spaces,
        *model.zones,
        *model.devices,
    )
    for item in items:
        fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        where: tuple[float, ...] = ()
        for name in ("position", "footprint"):
            if name in fields:
                value = fields.pop(name)
                where = tuple(value) if name == "position" else _centroid(value)
        if "elevation" in fields and not where:
            where = (0.0, 0.0, float(fields.pop("elevation")))
        elif "elevation" in fields:
            where = (*where[:2], float(fields.pop("elevation")))
        index[item.global_id] = (where, fields)
    return index


def _centroid(ring: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    if not ring:
        return ()
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
