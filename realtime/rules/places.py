"""Place rules, judged in the database from the member alarms every instance writes.

"Two smoke detectors on one floor within 60 s" cannot be judged from one instance's memory when
the stream is shared: the two messages may reach two instances. Each instance writes its member
alarms; then, in the same transaction, it asks the store whether the place now holds enough of
them, and raises the place alarm through the same one-open-alarm upsert — so whichever instance
completes the picture raises it, once. A place alarm clears when no member alarm is still active
in the place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.alarms.conditions import Occurrence, clear_condition, raise_alarm
from twin.alarms.rules import PlaceRule, RuleSet
from twin.alarms.severity import AlarmState
from twin.store.alarms import AlarmRow

DEPTH = {"building": 2, "floor": 3, "space": 4}
ACTIVE = (AlarmState.RAISED.value, AlarmState.ACKNOWLEDGED.value)


def _scope(path: str, rule: PlaceRule) -> str | None:
    parts = path.split(".")
    depth = DEPTH[rule.scope]
    return ".".join(parts[:depth]) if len(parts) >= depth else None


def judge_places(session: Session, rules: RuleSet, touched: list[tuple[str, str, datetime, bool]]) -> None:
    """Raise or clear the place alarms that the given member raises and clears decide."""
    queue = list(touched)
    while queue:
        member, path, at, raised = queue.pop(0)
        for rule in rules.place_rules_of(member):
            scope = _scope(path, rule)
            if scope is None:
                continue
            subject = f"place:{scope.rsplit('.', 1)[-1]}"
            if raised:
                found = _members(session, rule, scope, at - timedelta(seconds=rule.within_s))
                subjects = {s for subs in found.values() for s in subs}
                if len(subjects) < rule.count or (rule.require_all and set(rule.members) - set(found)):
                    continue
                occurrence = Occurrence(
                    rule.name, "place", subject, scope, rule.severity, at,
                    message=f"{len(subjects)} alarms of {', '.join(sorted(found))}",
                    data={"members": sorted(subjects), "escalate_after_min": rule.escalate_after_min},
                )  # fmt: skip
                result = raise_alarm(session, occurrence)
                if result.created or result.reopened:
                    queue.append((rule.name, scope, at, True))
            elif not _members(session, rule, scope, None):
                if clear_condition(session, rule.name, subject, at) is not None:
                    queue.append((rule.name, scope, at, False))


def _members(session: Session, rule: PlaceRule, scope: str, since: datetime | None) -> dict[str, set[str]]:
    stmt = select(AlarmRow.rule, AlarmRow.subject).where(
        AlarmRow.rule.in_(rule.members),
        AlarmRow.state.in_(ACTIVE),
        AlarmRow.path.op("<@")(func.text2ltree(scope)),
    )
    if since is not None:
        stmt = stmt.where(AlarmRow.last_at >= since)
    found: dict[str, set[str]] = {}
    for name, subject in session.execute(stmt):
        found.setdefault(name, set()).add(subject)
    return found
