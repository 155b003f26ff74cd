"""Telemetry as the twin sees it: the live ingest's interface, history series, state, discoveries.

The ingest itself lives in ``realtime``; this package declares what the twin asks of it
(``LiveTelemetry``) and answers from the tables in ``twin.store.telemetry``.
"""
