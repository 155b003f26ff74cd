"""The ingest's counters in ``/metrics``, read from plain numbers at scrape time.

The pipeline counts with plain integer additions (a Prometheus ``Counter.inc`` takes a lock, and
the ingest counts several things per reading); this collector turns the numbers into metric
families only when Prometheus asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realtime.counters import IngestCounters
from realtime.writer import PipelineCounts

_COUNTS = {
    "received": ("twin_ingest_messages_received", "MQTT messages taken from the broker"),
    "decoded": ("twin_ingest_readings_decoded", "Readings decoded from messages"),
    "rejected": ("twin_ingest_rejected", "Messages or values rejected by the decoder"),
    "unknown": ("twin_ingest_readings_unknown", "Readings of identities bound to no device"),
    "written": ("twin_ingest_readings_written", "History rows committed to PostgreSQL"),
    "duplicates": ("twin_ingest_readings_duplicate", "History rows already stored (redeliveries)"),
    "refused": ("twin_ingest_readings_refused", "History rows PostgreSQL refused for their content"),
    "spilled": ("twin_ingest_readings_spilled", "History rows spilled to disk"),
    "replayed": ("twin_ingest_readings_replayed", "Spilled rows written back from disk"),
}


@dataclass(frozen=True)
class Gauges:
    """Readers of the live levels of the pipeline."""

    waiting_rows: Callable[[], int]
    spool_bytes: Callable[[], int]
    database_up: Callable[[], bool]
    broker_connected: Callable[[], bool]
    unbound_pending: Callable[[], int]


class IngestCollector(Collector):
    """Yields the ingest's counters and gauges to a Prometheus registry."""

    def __init__(self, counts: PipelineCounts, profiles: IngestCounters, gauges: Gauges) -> None:
        """Read ``counts`` and the decoder's per-profile ``profiles`` at every scrape."""
        self.counts, self.profiles, self.gauges = counts, profiles, gauges

    def collect(self) -> Iterator[Metric]:
        """Return the current values."""
        for attr, (name, doc) in _COUNTS.items():
            family = CounterMetricFamily(name, doc)
            family.add_metric([], getattr(self.counts, attr))
            yield family
        per_profile = CounterMetricFamily(
            "twin_ingest_profile_messages", "Messages received per vendor profile", labels=["profile"]
        )
        rejects = CounterMetricFamily(
            "twin_ingest_profile_rejects", "Rejects per vendor profile and reason", labels=["profile", "reason"]
        )
        for profile, counters in sorted(self.profiles.profiles.items()):
            per_profile.add_metric([profile], counters.received)
            for reason, count in sorted(counters.rejects.items()):
                rejects.add_metric([profile, reason], count)
        yield per_profile
        yield rejects
        g = self.gauges
        for name, doc, value in (
            ("twin_ingest_waiting_readings", "Readings in memory, not yet durable", g.waiting_rows()),
            ("twin_ingest_spool_bytes", "Bytes of readings spilled to disk, waiting", g.spool_bytes()),
            ("twin_ingest_database_up", "Whether the ingest can write to PostgreSQL", int(g.database_up())),
            ("twin_ingest_broker_connected", "Whether the ingest has the broker", int(g.broker_connected())),
            ("twin_ingest_unbound_pending", "Unbound identities waiting to be listed", g.unbound_pending()),
        ):
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
