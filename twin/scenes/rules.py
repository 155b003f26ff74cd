"""A scene's alarm rules in the store, so a server started without the scene's folder applies them too.

Every rule of the scene is checked first, together and against the devices of the loaded site
(a rule naming a tag the model lacks is refused with its file and line), and only then stored,
as the API stores its own: the table as written, ``created_by`` naming the scene. A rule already
stored as written is left alone, so loading twice writes nothing; an edited one is updated, a
removed one withdrawn. A name the API already uses for another rule refuses the load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.alarms.files import rule_tables, scene_author
from twin.alarms.rules import PlaceRule, RuleError, Vocabulary, rule_set
from twin.audit import audit
from twin.events import Action, RegistryEvent, record
from twin.scenes.model import SceneError
from twin.store.alarms import AlarmRuleRow
from twin.store.models import DeviceRow

RULES_EVENT = "alarm_rule"
"""The registry event a running rule engine reloads its rules on."""


def store_rules(session: Session, site_id: int, folder: Path, quantities: Vocabulary) -> int:
    """Check and store the rules of a scene folder; return how many changed (0 on a second load)."""
    tags = set(session.scalars(select(DeviceRow.tag).where(DeviceRow.site_id == site_id, DeviceRow.tag.is_not(None))))
    vocabulary = Vocabulary(quantities.quantities, {t for t in tags if t})
    tables = rule_tables(folder)
    try:
        checked = [table.check(vocabulary) for table in tables]
        rule_set([r for r in checked if not isinstance(r, PlaceRule)], [r for r in checked if isinstance(r, PlaceRule)])
    except RuleError as exc:
        raise SceneError(str(exc), "fix the rule and load again") from None
    author = scene_author(folder.name)
    stored = {row.name: row for row in session.scalars(select(AlarmRuleRow))}
    changed = 0
    wanted: set[str] = set()
    for table, rule in zip(tables, checked, strict=True):
        spec: dict[str, Any] = {**table.spec, "type": table.type}
        wanted.add(rule.name)
        row = stored.get(rule.name)
        if row is not None and row.created_by != author:
            where = f"{table.file}:{table.line_of('name')}"
            raise SceneError(
                f"{where}: rule {rule.name!r}: the name is taken by a rule of {row.created_by}",
                "rules apply to every site: keep the rule in one place or rename this one",
            )
        if row is None:
            row = AlarmRuleRow(name=rule.name, spec=spec, created_by=author)
            session.add(row)
            session.flush()
            _announce(session, "create", row, None)
        elif row.spec != spec:
            before, row.spec = row.spec, spec
            session.flush()
            _announce(session, "update", row, before)
        else:
            continue
        changed += 1
    for name, row in stored.items():
        if row.created_by == author and name not in wanted:
            _announce(session, "delete", row, row.spec)
            session.delete(row)
            changed += 1
    return changed


def _announce(session: Session, action: Action, row: AlarmRuleRow, before: dict[str, Any] | None) -> None:
    after = None if action == "delete" else row.spec
    audit(session, action=f"alarm_rule.{action}", kind="alarm_rule", object_id=row.id, before=before, after=after)
    record(session, RegistryEvent(action, RULES_EVENT, row.id, (), {"name": row.name}))
