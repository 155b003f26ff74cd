"""A scene's inspection plans in the operations store: one plan per name on the scene's site.

A plan is found again by its name among the site's own plans, so loading twice creates nothing,
and a plan edited in scene.toml (interval, kinds, checklist) is updated in place, keeping its
visits and so when each target is next due. A new plan starts at the load: everything it covers
is due at once, which is what a property taking over a community does first.
"""

from __future__ import annotations

from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import snapshot
from twin.operations.catalogue import Every
from twin.operations.inspection_schemas import PlanCreate
from twin.operations.inspections import announce_plan, create_plan
from twin.scenes.model import InspectionPlan, SceneError
from twin.store.operations import InspectionPlanRow


def store_plans(session: Session, site_id: int, plans: tuple[InspectionPlan, ...], where: str) -> int:
    """Create or update the scene's plans on its site; return how many changed (0 on a second load)."""
    rows = session.scalars(
        select(InspectionPlanRow).where(InspectionPlanRow.site_id == site_id, InspectionPlanRow.place_id == site_id)
    )
    existing = {row.name: row for row in rows}
    changed = 0
    for index, plan in enumerate(plans):
        row = existing.get(plan.name)
        kinds, checklist = [k.value for k in plan.kinds], list(plan.checklist)
        if row is None:
            try:
                data = PlanCreate(
                    place_id=site_id, name=plan.name, every=Every(plan.every), device_kinds=list(plan.kinds),
                    checklist=checklist,
                )  # fmt: skip
            except PydanticError as exc:
                problem = exc.errors()[0]
                key = ".".join(str(p) for p in problem["loc"])
                raise SceneError(f"{where}: inspection_plan[{index}] {plan.name!r}: {key}: {problem['msg']}") from None
            create_plan(session, data)
        elif (row.every, row.device_kinds, row.checklist, row.active) != (plan.every, kinds, checklist, True):
            before = snapshot(row)
            row.every, row.device_kinds, row.checklist, row.active = plan.every, kinds, checklist, True
            session.flush()
            announce_plan(session, "update", row, before)
        else:
            continue
        changed += 1
    return changed
