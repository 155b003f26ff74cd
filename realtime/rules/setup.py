"""Attach a rule engine to a running ingest: what the composition root calls.

The ingest hands each batch of latest values and health changes to ``ingest.rules``; the engine
judges them in memory and writes alarms on its own thread. Rules come from the given scene folders
and from the store (declared through the API); a registry event about rules reloads them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from realtime.ingest import Ingest
from realtime.rules.engine import RuleEngine
from realtime.rules.load import load_rules
from twin.events import EventBus, RegistryEvent
from twin.store.engine import session_factory

RULES_EVENT = "alarm_rule"


async def start_rules(ingest: Ingest, engine: Engine, scenes: list[Path], events: EventBus | None = None) -> RuleEngine:
    """Load the rules, start an engine fed by ``ingest``, and return it (the caller stops it)."""
    with session_factory(engine)() as session:
        rules, tags = load_rules(session, scenes)
    rule_engine = RuleEngine(rules, engine, lambda i: ingest.bindings.table.devices.get(i), events=events, tags=tags)
    await rule_engine.start()
    ingest.state.subscribe(rule_engine.readings)
    ingest.health_listeners.append(rule_engine.health)
    if events is not None:

        def reload(event: RegistryEvent) -> None:
            if event.kind == RULES_EVENT:
                with session_factory(engine)() as session:
                    rule_engine.use(*load_rules(session, scenes))

        events.subscribe(reload)
    return rule_engine
