"""Samples of rejected messages, a few per reason, for ``GET /api/ingest/rejects``.

Counts alone say that something is wrong; a sample says what: the topic, the decoder's detail
and the first bytes of the payload. Only the latest few per (profile, reason) are kept, so a
vendor flooding garbage costs a fixed amount of memory.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from realtime.counters import UNMATCHED
from realtime.decode import Reject

SAMPLES_PER_REASON = 5


@dataclass(frozen=True, slots=True)
class RejectSample:
    """One rejected message or value as the operator sees it."""

    profile: str
    reason: str
    topic: str
    detail: str
    payload: str
    """The start of the payload, with undecodable bytes escaped."""
    at: datetime


class RejectLog:
    """The latest samples per (profile, reason)."""

    def __init__(self, per_reason: int = SAMPLES_PER_REASON) -> None:
        """Keep ``per_reason`` samples of each profile's reasons."""
        self.per_reason = per_reason
        self._samples: dict[tuple[str, str], deque[RejectSample]] = {}

    def add(self, reject: Reject, at: datetime | None = None) -> None:
        """Keep a sample of ``reject``, dropping the oldest of its kind when full."""
        profile = reject.profile or UNMATCHED
        key = (profile, reject.reason.value)
        samples = self._samples.get(key)
        if samples is None:
            samples = self._samples[key] = deque(maxlen=self.per_reason)
        payload = reject.sample.decode("utf-8", errors="backslashreplace")
        samples.append(
            RejectSample(profile, reject.reason.value, reject.topic, reject.detail, payload, at or datetime.now(UTC))
        )

    def as_dict(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Return the samples as JSON-ready data: profile → reason → samples, newest first."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for (profile, reason), samples in sorted(self._samples.items()):
            out.setdefault(profile, {})[reason] = [
                {"topic": s.topic, "detail": s.detail, "payload": s.payload, "at": s.at.isoformat()}
                for s in reversed(samples)
            ]
        return out
