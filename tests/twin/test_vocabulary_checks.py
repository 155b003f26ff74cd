"""The store's CHECK constraints allow exactly the values the vocabularies' enums declare.

The migrations spell the lists out (a migration is a fixed step and must not follow later code),
so this test is what keeps the database, the API's catalogue and the scene parser on one list:
adding a severity or a ticket status without a migration fails here.
"""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from tests.ingest.helpers import query
from twin.alarms.severity import AlarmSeverity, AlarmState
from twin.operations.catalogue import Every, Outcome, TicketPriority, TicketStatus

CHECKS: dict[str, type[StrEnum]] = {
    "ck_alarms_severity": AlarmSeverity,
    "ck_alarms_state": AlarmState,
    "ck_tickets_status": TicketStatus,
    "ck_tickets_priority": TicketPriority,
    "ck_inspection_visits_outcome": Outcome,
    "ck_inspection_plans_every": Every,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_check_constraint_lists_its_enum(db_url: str, name: str) -> None:
    rows = query(db_url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (name,))
    assert rows, f"no constraint {name} in the migrated store"
    allowed = set(re.findall(r"'([^']+)'", str(rows[0][0])))
    assert allowed == {member.value for member in CHECKS[name]}
