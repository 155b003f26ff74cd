"""What the twin asks of a live ingest running in the same process (``realtime.ingest.Ingest``).

The API reads the tables first, which every server instance shares; a live ingest in this process
adds what it saw since its last flush (at most about a second newer), and what only it keeps:
reject samples and its counters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from starlette.datastructures import State


class LiveTelemetry(Protocol):
    """The ingest, as routes see it."""

    def latest(self, device_id: int) -> dict[str, dict[str, Any]]:
        """Return a device's latest values seen by this process, by quantity (value, unit, time)."""

    def health_of(self, device_id: int) -> tuple[str, datetime | None] | None:
        """Return a device's live health and last-seen time, if this process tracks it."""

    def reject_samples(self) -> dict[str, Any]:
        """Return reject counts per profile and the latest samples per reason."""

    def status(self) -> dict[str, Any]:
        """Return the pipeline's counters and levels."""


def live_of(state: State) -> LiveTelemetry | None:
    """Return the live ingest the app factory put on the app's state, if it runs."""
    live: LiveTelemetry | None = getattr(state, "telemetry", None)
    return live
