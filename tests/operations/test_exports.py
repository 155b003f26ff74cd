"""The public surface of twin.operations: sorted, and every name importable."""

from __future__ import annotations

import twin.operations


def test_all_is_sorted_and_importable() -> None:
    names = twin.operations.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(twin.operations, name) is not None
