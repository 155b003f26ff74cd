"""Stable ids for generated things: the same seed and key give the same IFC GlobalId every time.

Regenerating a scene must not look like a new model to the importer (which updates by GlobalId),
and the loader must find a unit's space without reading the IFC; both hold when a GlobalId is a
function of the seed and a readable key ("T3/F18/U1801"). The 22-character form is IFC's own
base-64 of the 128-bit number (what ``ifcopenshell.guid.compress`` writes), computed here so the
twin needs no IFC library to know it.
"""

from __future__ import annotations

import hashlib

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"


def ifc_guid(seed: int, key: str) -> str:
    """Return the IFC GlobalId of the thing called ``key`` in the community generated with ``seed``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()[:16]
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 64)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
