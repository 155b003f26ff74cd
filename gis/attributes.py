"""Attribute values made JSON-safe: what a file stores as numpy, pandas or dates becomes plain JSON.

The store writes attributes as JSONB and the API returns them as they are, so every value is
converted once, here, at the border: NaN and missing become null, dates ISO 8601 text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np

from gis.model import JsonValue


def json_safe(value: object) -> JsonValue:
    """Return a value JSON can carry exactly, or None for missing and non-finite numbers."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, Mapping | list | tuple | np.ndarray) and _is_missing(value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    return str(value)


def json_safe_record(record: Mapping[str, object]) -> dict[str, JsonValue]:
    """Return a feature's attributes with every value JSON-safe and every key text."""
    return {str(k): json_safe(v) for k, v in record.items()}


def _is_missing(value: object) -> bool:
    # pandas.NA and NaT are neither None nor float; both say "no value".
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False
