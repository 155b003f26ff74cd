"""Re-import: what was added, removed, moved or changed, by GlobalId."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bim import BimModel, Moved, diff_models, read_ifc
from tests.bim.factory import build_ifc

Reader = Callable[[str], BimModel]


def test_same_model_has_no_difference(bim_model: Reader) -> None:
    """A re-import of an unchanged file must touch nothing."""
    model = bim_model("Duplex_Electrical_20121207.ifc")
    assert diff_models(model, model).empty


def test_edits_are_classified(bim_model: Reader) -> None:
    """Moves, renames, additions and removals each drive a different store update."""
    old = bim_model("Duplex_Electrical_20121207.ifc")
    first, second, third, *rest = old.devices
    x, y, z = second.position
    new = dataclasses.replace(
        old,
        devices=(
            dataclasses.replace(second, position=(x + 3.0, y + 4.0, z)),
            dataclasses.replace(third, name="renamed"),
            *rest,
            dataclasses.replace(first, global_id="0newdevice000000000000"),
        ),
    )
    diff = diff_models(old, new)
    assert diff.added == ("0newdevice000000000000",)
    assert diff.removed == (first.global_id,)
    assert diff.moved == (Moved(second.global_id, 5.0),)
    assert diff.changed == (third.global_id,)


def test_moved_sensor_between_two_versions_of_a_file(tmp_path: Path) -> None:
    """Identity is the GlobalId alone: same id moved is a move, new ids are new."""
    old = read_ifc(build_ifc(tmp_path / "v1.ifc").path)
    new = read_ifc(build_ifc(tmp_path / "v2.ifc", sensor_at=(6.0, 2.0, 1.0)).path)
    diff = diff_models(old, new)
    # ifcopenshell mints new GlobalIds per build: everything is new, nothing is kept.
    everything: tuple[Any, ...] = (*new.sites, *new.buildings, *new.storeys, *new.spaces, *new.devices)
    assert set(diff.added) == {i.global_id for i in everything}
    (sensor,) = new.devices
    same_id = dataclasses.replace(
        new, devices=(dataclasses.replace(sensor, global_id=old.devices[0].global_id),)
    )
    moved = diff_models(old, same_id).moved
    assert [m.global_id for m in moved] == [old.devices[0].global_id]
    assert moved[0].distance == pytest.approx(4.0)
