"""The public surface of twin.imports: what the composition root, bim, gis and scenes may rely on."""

from __future__ import annotations

import twin.imports


def test_public_names_are_sorted_and_exist() -> None:
    """Every exported name resolves, and the list is kept sorted so additions are easy to review."""
    names = twin.imports.__all__
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    assert all(hasattr(twin.imports, name) for name in names)
