"""The hub's counters in ``/metrics``, read at scrape time from plain numbers.

Fan-out counts with integer additions on the event loop; the collector sums the live outboxes
only when Prometheus asks, so a busy hub pays nothing for being watched.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realtime.hub.hub import Hub


class HubCollector(Collector):
    """Yields the hub's counters and levels to a Prometheus registry."""

    def __init__(self, hub: Hub) -> None:
        """Read ``hub`` at every scrape."""
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        """Return the current values."""
        hub = self.hub
        boxes = list(hub.outboxes)
        totals = hub.counts
        for name, doc, value in (
            ("twin_hub_events", "Events sequenced and routed by the hub", totals.events),
            ("twin_hub_offered", "Events offered to subscriptions", totals.offered),
            ("twin_hub_messages_sent", "Messages sent to clients", totals.sent + sum(b.sent_messages for b in boxes)),
            ("twin_hub_frames_sent", "WebSocket frames sent", totals.frames + sum(b.sent_frames for b in boxes)),
            ("twin_hub_coalesced", "Telemetry replaced by a newer value before a slow client read it",
             totals.coalesced + sum(b.coalesced for b in boxes)),
            ("twin_hub_resyncs", "Clients told to resynchronise (too far behind)", totals.resyncs),
        ):  # fmt: skip
            counter = CounterMetricFamily(name, doc)
            counter.add_metric([], value)
            yield counter
        for name, doc, value in (
            ("twin_hub_connections", "Open live sessions", sum(hub.connections.values())),
            ("twin_hub_subscriptions", "Indexed subscription roots", hub.subscriptions),
            ("twin_hub_queued_bytes", "Bytes waiting in client queues", sum(b.queued_bytes for b in boxes)),
        ):
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
