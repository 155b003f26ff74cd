"""GCJ-02 ⇄ WGS84, the well-known published approximation; opt-in only.

GCJ-02 is the offset datum that Chinese web maps (Amap/高德, Tencent) must publish. The forward
offset (WGS84 → GCJ-02) is the public formula; its inverse has no closed form, so it is solved by
fixed-point iteration, which converges to well under a centimetre in a few steps. Outside China the
offset is zero by definition. The result is as good as the published formula (≈ 1 m against
survey points), which is why this conversion is never applied silently.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378245.0
_EE = 0.00669342162296594323

Array = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return where the GCJ-02 offset applies (the rough mainland box the formula uses)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271)


def _offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Return GCJ-02 longitudes and latitudes of WGS84 ones (unchanged outside China)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + d_lon, x), np.where(inside, y + d_lat, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tolerance_deg: float = 1e-10) -> tuple[Array, Array]:
    """Return WGS84 longitudes and latitudes of GCJ-02 ones, inverting the forward offset."""
    target_x, target_y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = target_x.copy(), target_y.copy()
    for _ in range(30):
        fx, fy = wgs84_to_gcj02(x, y)
        ex, ey = fx - target_x, fy - target_y
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < tolerance_deg) and np.all(np.abs(ey) < tolerance_deg):
            break
    return x, y
