"""The property's work on the places it concerns: repair tickets, billing and inspection rounds.

Use cases that change things live in ``tickets``, ``billing``, ``billing_import`` and
``inspections``/``rounds``; read-only questions beside them in ``*_queries``, ``billing_status``,
``inspection_due`` and ``round_report``; the vocabularies in ``catalogue``. Every change is
audited and announced as a registry event after its commit.
"""

from twin.operations.billing import post_charge, post_payment
from twin.operations.billing_import import import_billing
from twin.operations.billing_queries import payment_rate_per_building, payment_rates, unit_billing, unit_statuses
from twin.operations.inspection_due import ATTENTION, due_targets
from twin.operations.inspections import create_plan, finish_round, record_adhoc_visit, record_stop, update_plan
from twin.operations.rounds import plan_round
from twin.operations.ticket_queries import list_tickets, overdue_per_building, ticket_counts
from twin.operations.tickets import assign_ticket, change_status, comment_ticket, open_ticket, update_ticket

__all__ = [
    "ATTENTION",
    "assign_ticket",
    "change_status",
    "comment_ticket",
    "create_plan",
    "due_targets",
    "finish_round",
    "import_billing",
    "list_tickets",
    "open_ticket",
    "overdue_per_building",
    "payment_rate_per_building",
    "payment_rates",
    "plan_round",
    "post_charge",
    "post_payment",
    "record_adhoc_visit",
    "record_stop",
    "ticket_counts",
    "unit_billing",
    "unit_statuses",
    "update_plan",
    "update_ticket",
]
