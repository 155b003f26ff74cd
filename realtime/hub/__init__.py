"""The live hub: WebSocket sessions, scoped subscriptions, snapshots, deltas and back-pressure.

Events come from the live ingest (telemetry, in batches, on the event loop), from the registry
bus (alarms, tickets, billing, imports, health: after their commit, from any thread) and from
the other server instances through the broker; each is encoded once and handed to the clients
whose subscriptions hold one of the scopes on its location path. See docs/live.md.
"""
