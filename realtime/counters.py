"""Ingest counters per profile, kept as plain numbers for ``/metrics`` to read.

Nothing is lost silently: every message a profile received ends as readings, availability or
a reject with a reason, and these counters let an operator see which vendor sends what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

UNMATCHED = "(unmatched)"
"""The pseudo-profile that counts topics no profile claims."""


@dataclass(slots=True)
class ProfileCounters:
    """What one profile has seen since the process started."""

    received: int = 0
    readings: int = 0
    availability: int = 0
    rejects: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class IngestCounters:
    """Counters of every profile, created on first use."""

    profiles: dict[str, ProfileCounters] = field(default_factory=dict)

    def of(self, profile: str) -> ProfileCounters:
        """Return the counters of ``profile``, creating them at zero."""
        counters = self.profiles.get(profile)
        if counters is None:
            counters = self.profiles[profile] = ProfileCounters()
        return counters

    def as_dict(self) -> dict[str, dict[str, object]]:
        """Return a JSON-ready copy, rejects broken down by reason."""
        return {
            name: {
                "received": c.received,
                "readings": c.readings,
                "availability": c.availability,
                "rejects": dict(sorted(c.rejects.items())),
            }
            for name, c in sorted(self.profiles.items())
        }
