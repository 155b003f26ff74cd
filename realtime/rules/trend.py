"""A least-squares line over a sliding window of readings, kept as running sums.

A trend rule asks, of every reading (or period), whether the line through the last window of
readings crosses a threshold within its horizon. Re-summing the window each time costs its length
per reading; here each reading adds its terms to five sums and each sample leaving the window takes
them away, so a judgement costs the same whatever the window holds. Times are kept relative to a
reference near the window's start (epoch seconds squared would lose every digit that matters), and
the sums are rebuilt from the samples whenever that reference is re-based, a window apart, so
rounding from adding and subtracting never accumulates.

How sure the slope is, not how well the line fits, decides a prediction: the slope's standard error
gives a one-sided confidence bound on it (Student's t quantile, from the normal one by its
Cornish–Fisher expansion). R² would be the wrong measure: it compares the drift with the noise, so
a real but slow drift under lively noise (a lift's vibration while it travels) never scores well,
and a short run of random readings can score high by chance; the slope's bound tightens as evidence
accumulates and stays wide while the data cannot tell a drift from noise.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

CAP = 512
"""The most samples a window keeps; beyond it the oldest leave early (memory per device stays bounded)."""


@lru_cache(maxsize=64)
def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(confidence)


def t_quantile(confidence: float, dof: int) -> float:
    """Return Student's t one-sided quantile (good to ~1% from 3 degrees of freedom)."""
    z = _z(confidence)
    z3 = z * z * z
    return z + (z3 + z) / (4 * dof) + (5 * z3 * z * z + 16 * z3 + 3 * z) / (96 * dof * dof)


@dataclass(frozen=True, slots=True)
class Line:
    """The fitted line at a time: its level there, its slope (per second) and the slope's standard error."""

    level: float
    slope: float
    slope_se: float
    n: int


@dataclass(slots=True)
class Fit:
    """The window's samples and the running sums of t, v, t², tv and v² (t from ``ref``)."""

    samples: deque[tuple[float, float]] = field(default_factory=deque)
    ref: float | None = None
    st: float = 0.0
    sv: float = 0.0
    stt: float = 0.0
    stv: float = 0.0
    svv: float = 0.0

    def add(self, t: float, v: float, window: float) -> None:
        """Add a sample at ``t`` and forget those older than ``window`` seconds before it."""
        while self.samples and (self.samples[0][0] < t - window or len(self.samples) >= CAP):
            self._take(*self.samples.popleft())
        if self.ref is None or t - self.ref > 2 * window:
            self._rebase(t)
        self.samples.append((t, v))
        self._put(t, v)

    def span(self) -> float:
        """Return the seconds of history the window holds."""
        return self.samples[-1][0] - self.samples[0][0] if self.samples else 0.0

    def line(self, at: float) -> Line:
        """Return the least-squares line, its level at ``at`` (needs at least 3 samples)."""
        n = len(self.samples)
        assert self.ref is not None and n >= 3
        mt, mv = self.st / n, self.sv / n
        var_t = self.stt - n * mt * mt
        if var_t <= 0:
            return Line(mv, 0.0, math.inf, n)
        cov = self.stv - n * mt * mv
        slope = cov / var_t
        residual = max(0.0, self.svv - n * mv * mv - slope * cov)
        se = math.sqrt(residual / (n - 2) / var_t)
        return Line(mv + slope * (at - self.ref - mt), slope, se, n)

    def _put(self, t: float, v: float) -> None:
        assert self.ref is not None
        x = t - self.ref
        self.st += x
        self.sv += v
        self.stt += x * x
        self.stv += x * v
        self.svv += v * v

    def _take(self, t: float, v: float) -> None:
        assert self.ref is not None
        x = t - self.ref
        self.st -= x
        self.sv -= v
        self.stt -= x * x
        self.stv -= x * v
        self.svv -= v * v

    def _rebase(self, t: float) -> None:
        self.ref = self.samples[0][0] if self.samples else t
        self.st = self.sv = self.stt = self.stv = self.svv = 0.0
        for s in self.samples:
            self._put(*s)


def eta_s(line: Line, slope: float, threshold: float, sign: float) -> float:
    """Return the seconds until ``line``'s level, going at ``slope``, reaches the threshold (inf: never)."""
    gap = sign * (threshold - line.level)
    if gap <= 0:
        return 0.0
    towards = sign * slope
    return gap / towards if towards > 0 else math.inf
