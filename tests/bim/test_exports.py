"""The public surface of ``bim`` is what ``__all__`` says, sorted, and ifcopenshell-free."""

from __future__ import annotations

import dataclasses
import inspect

import bim


def test_all_is_sorted_and_complete() -> None:
    """The package's surface is what __all__ says, nothing hidden, nothing stale."""
    assert bim.__all__ == sorted(bim.__all__)
    public = {n for n in dir(bim) if not n.startswith("_") and not inspect.ismodule(getattr(bim, n))}
    assert public == set(bim.__all__)


def test_model_objects_are_frozen_and_free_of_ifcopenshell() -> None:
    """Objects leaving bim/ must not drag ifcopenshell types into the rest of the system."""
    for name in ("BimModel", "BimDevice", "BimSpace", "BimStorey", "BimGeoref", "WalkEdge", "BimDiff"):
        cls = getattr(bim, name)
        assert dataclasses.is_dataclass(cls) and vars(cls)["__dataclass_params__"].frozen
        assert "ifcopenshell" not in repr([f.type for f in dataclasses.fields(cls)])
