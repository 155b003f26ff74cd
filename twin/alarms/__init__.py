"""Alarms: the rules as data, the lifecycle of an alarm, its queries and its notifiers.

The rule engine (``realtime.rules``) raises and clears through ``conditions``; people acknowledge,
clear, close, assign and open tickets through ``lifecycle``; the API and the overview read through
``queries``; ``notify`` tells people who are not looking. Severity and state are declared once in
``severity``.
"""

from twin.alarms.conditions import Occurrence, Raised, clear_condition, escalate_due, open_conditions, raise_alarm
from twin.alarms.lifecycle import acknowledge_alarm, assign_alarm, clear_alarm, close_alarm, open_ticket_for_alarm
from twin.alarms.notify import Dispatcher, Notice, Notifier, WebhookNotifier
from twin.alarms.queries import AlarmFilter, PlaceCount, alarm_counts, get_alarm, list_alarms
from twin.alarms.severity import SEVERITIES, STATES, AlarmSeverity, AlarmState

__all__ = [
    "SEVERITIES",
    "STATES",
    "AlarmFilter",
    "AlarmSeverity",
    "AlarmState",
    "Dispatcher",
    "Notice",
    "Notifier",
    "Occurrence",
    "PlaceCount",
    "Raised",
    "WebhookNotifier",
    "acknowledge_alarm",
    "alarm_counts",
    "assign_alarm",
    "clear_alarm",
    "clear_condition",
    "close_alarm",
    "escalate_due",
    "get_alarm",
    "list_alarms",
    "open_conditions",
    "open_ticket_for_alarm",
    "raise_alarm",
]
