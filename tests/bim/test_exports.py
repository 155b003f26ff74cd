"""The public surface of ``bim`` is what ``__all__`` says, sorted, and ifcopenshell-free."""

from __future__ import annotations

import dataclasses
import inspect

import bim


def test_all_is_sorted_and_complete() -> None:
    assert bim.__all__ == sorted(bim.__all__)
    public = {n for n in dir(bim) if not n.startswith("_") and not inspect.ismodule(getattr(bim, n))}
    assert public == set(bim.__all__)


def test_model_objects_are_frozen_and_free_of_ifcopenshell() -> None:
    for name in ("BimModel", "BimDevice", "BimSpace", "BimStorey", "BimGeoref", "WalkEdge", "BimDiff"):
        cls = getattr(bim, name)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert "ifcopenshell" not in repr([f.type for f in dataclasses.fields(cls)])
