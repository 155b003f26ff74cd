"""Residents of a unit: masked for every role but finance and admin, and unmasked only with a reason.

An unmasked read is itself recorded in the audit log (who read whose data, and why), as the
Personal Information Protection Law expects; a wall-display or emergency session never unmasks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from twin.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from twin.audit import audit
from twin.auth import residents as resident_cases
from twin.auth.pii import PiiKey, mask_id_number, mask_name, mask_phone
from twin.auth.roles import SEES_BILLING, Permission
from twin.auth.scope import Principal
from twin.graph.places import get_place
from twin.schemas import Flag, Id
from twin.store.models import SpaceRow
from twin.store.security import ResidentRow

router = APIRouter(prefix="/api", tags=["residents"])


class ResidentCreate(BaseModel):
    """A resident of a unit."""

    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{5,20}$")
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{17}[0-9Xx]$")
    relation: str = Field(default="owner", pattern="^(owner|tenant|family)$")


def _key(runtime: Any) -> PiiKey:
    return PiiKey.from_file(runtime.settings.pii_key_path())


@router.post("/units/{unit_id}/residents", status_code=status.HTTP_201_CREATED)
def add_resident(
    unit_id: Id,
    body: ResidentCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Permission.BILLING_WRITE))],
) -> dict[str, Any]:
    """Record a resident of a unit, encrypted at rest."""
    unit = get_place(session, SpaceRow, unit_id, "unit")
    if not principal.allows(Permission.BILLING_WRITE, unit.path):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your roles do not allow changing residents here")
    row = resident_cases.add_resident(
        session,
        _key(runtime),
        unit.id,
        body.name,
        phone=body.phone,
        id_number=body.id_number,
        relation=body.relation,
    )
    return {"id": row.id}


@router.get("/units/{unit_id}/residents")
def list_residents(
    unit_id: Id,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    reveal: Annotated[Flag, Query(description="Unmask (finance and admin only), with a reason.")] = False,
    reason: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """List a unit's residents, masked unless the caller may and does ask to unmask, saying why."""
    unit = get_place(session, SpaceRow, unit_id, "unit")
    if not (principal.roles & SEES_BILLING):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unit {unit_id} has no resident records you may see")
    if reveal:
        if principal.wall_display or not principal.allows(Permission.PII_READ, unit.path):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your roles do not allow unmasked personal data")
        if not reason or len(reason.strip()) < 4:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "say why you unmask personal data (reason=…)")
    key = _key(runtime)
    items = []
    for row in session.scalars(select(ResidentRow).where(ResidentRow.unit_id == unit.id).order_by(ResidentRow.id)):
        name = key.decrypt(row.name_enc)
        phone = key.decrypt(row.phone_enc) if row.phone_enc else None
        id_number = key.decrypt(row.id_number_enc) if row.id_number_enc else None
        if not reveal:
            name, phone = mask_name(name), mask_phone(phone) if phone else None
            id_number = mask_id_number(id_number) if id_number else None
        items.append({"id": row.id, "name": name, "phone": phone, "id_number": id_number, "relation": row.relation})
    if reveal:
        audit(
            session,
            action="pii.read",
            kind="unit",
            object_id=unit.id,
            after={"reason": reason.strip() if reason else None, "count": len(items)},
        )
    return {"unit_id": unit.id, "masked": not reveal, "items": items}
