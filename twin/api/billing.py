"""Billing: import an ERP export, post charges and payments, read households' standing and payment rates.

Finance clerks write (``billing.write``); administrators, operators, finance clerks and viewers
read on their subtrees; for responders, inspectors and vendors bills do not exist (404). Amounts
travel as strings so they stay exact. The CSV is parsed only after the caller is authenticated
and allowed to write bills, and it is uploaded under ``/api/uploads/…`` (the upload body limit).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from twin.api.deps import RuntimeDep, SessionDep
from twin.auth.deps import require
from twin.auth.pii import PiiKey
from twin.auth.roles import SEES_BILLING, Permission
from twin.auth.scope import Principal
from twin.errors import NotFoundError, ValidationError
from twin.graph.places import get_place
from twin.operations import billing as uc
from twin.operations.billing_import import import_billing
from twin.operations.billing_queries import payment_rates, unit_billing, unit_statuses
from twin.operations.catalogue import BillingStatus
from twin.operations.money import MoneyError, parse_period, today_cst
from twin.operations.schemas import (
    ChargeCreate,
    ImportReport,
    PaymentCreate,
    PaymentPublic,
    RatePoint,
    UnitBilling,
)
from twin.runtime import Runtime
from twin.schemas import Id
from twin.store.models import SiteRow
from twin.store.operations import BillingImportRow

router = APIRouter(prefix="/api", tags=["billing"])
Writer = Annotated[Principal, Depends(require(Permission.BILLING_WRITE))]
_CSV_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "site_id"],
                    "properties": {"file": {"type": "string", "format": "binary"}, "site_id": {"type": "integer"}},
                }
            }
        },
    }
}
MAX_CSV_BYTES = 64 << 20
"""A year of a large community's bills is a few megabytes; this leaves room and stops abuse."""


async def bill_reader(principal: Annotated[Principal, Depends(require())]) -> Principal:
    """Insist the caller holds a role that sees bills somewhere; for the others bills do not exist."""
    if not principal.roles & SEES_BILLING:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no bills you may see")
    return principal


Reader = Annotated[Principal, Depends(bill_reader)]


def _key(runtime: Runtime) -> PiiKey:
    return PiiKey.from_file(runtime.settings.pii_key_path())


def _month(field: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except MoneyError as exc:
        raise ValidationError(field, str(exc)) from exc


class ChargeResult(BaseModel):
    """A posted charge: its id and whether it was new, corrected or already there."""

    id: int
    outcome: str


@router.post("/uploads/billing", openapi_extra=_CSV_SCHEMA)
async def import_csv(request: Request, session: SessionDep, principal: Writer) -> ImportReport:
    """Import charges and payments from an ERP's CSV export into a site; the report lists refused rows."""
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("file", "attach the CSV as the multipart field 'file'")
        site_text = form.get("site_id")
        if (
            not isinstance(site_text, str)
            or not (site_text.isascii() and site_text.strip().isdigit())
            or len(site_text.strip()) > 18
        ):
            raise ValidationError("site_id", "give the site's id")
        site = await run_in_threadpool(get_place, session, SiteRow, int(site_text), "site")
        data = await upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"a billing CSV may be at most {MAX_CSV_BYTES} bytes"
            )
        name = (upload.filename or "billing.csv").replace("\\", "/").rsplit("/", 1)[-1]
    return await run_in_threadpool(import_billing, session, site.id, data, name)


@router.get("/billing/imports/{import_id}")
def get_import(session: SessionDep, import_id: Id, principal: Writer) -> ImportReport:
    """Read the report of an earlier import."""
    row = session.get(BillingImportRow, import_id)
    if row is None:
        raise NotFoundError(f"billing import {import_id} not found")
    get_place(session, SiteRow, row.site_id, "site")
    return ImportReport.model_validate({**row.report, "id": row.id})


@router.post("/billing/charges", status_code=status.HTTP_201_CREATED)
def post_charge(session: SessionDep, body: ChargeCreate, response: Response, principal: Writer) -> ChargeResult:
    """Post one charge (the same reference again corrects it, or changes nothing: 200)."""
    charge, outcome = uc.post_charge(session, body)
    if outcome != "created":
        response.status_code = status.HTTP_200_OK
    return ChargeResult(id=charge.id, outcome=outcome)


@router.post("/billing/charges/{charge_id}/payments", status_code=status.HTTP_201_CREATED)
def post_payment(
    session: SessionDep, charge_id: Id, body: PaymentCreate, response: Response, principal: Writer
) -> PaymentPublic:
    """Record a payment of a charge (the same reference again returns the first: 200)."""
    row, new = uc.post_payment(session, charge_id, body)
    if not new:
        response.status_code = status.HTTP_200_OK
    return PaymentPublic.model_validate(row, from_attributes=True)


@router.get("/billing/units/{unit_id}")
def get_unit(
    session: SessionDep,
    runtime: RuntimeDep,
    unit_id: Id,
    principal: Reader,
    period: Annotated[str | None, Query(max_length=16, description="Only this month (YYYY-MM).")] = None,
) -> UnitBilling:
    """Read a household's standing, with each charge and its payments; the household's name masked."""
    return unit_billing(session, unit_id, _key(runtime), _month("period", period))


@router.get("/billing/status")
def list_status(
    session: SessionDep,
    runtime: RuntimeDep,
    under: Id,
    principal: Reader,
    period: Annotated[str | None, Query(max_length=16, description="Only this month (YYYY-MM).")] = None,
    status_: Annotated[BillingStatus | None, Query(alias="status")] = None,
) -> dict[str, list[UnitBilling]]:
    """List every household unit under a place with its standing (paid, partly paid, overdue…)."""
    return {"items": unit_statuses(session, under, _key(runtime), _month("period", period), status_)}


class RatePage(BaseModel):
    """Payment rates per place and month over a span of months (``from`` and ``to`` as YYYY-MM)."""

    model_config = ConfigDict(populate_by_name=True)

    by: Literal["site", "building", "floor"]
    from_: str = Field(alias="from")
    to: str
    items: list[RatePoint]


@router.get("/billing/rates")
def list_rates(
    session: SessionDep,
    under: Id,
    principal: Reader,
    by: Literal["site", "building", "floor"] = "building",
    from_: Annotated[str | None, Query(alias="from", max_length=16, description="First month (YYYY-MM).")] = None,
    to: Annotated[str | None, Query(max_length=16, description="Last month (YYYY-MM); default this month.")] = None,
) -> RatePage:
    """Return the payment rate (paid over due, exact) per site, building or floor, month by month."""
    last = _month("to", to) or today_cst().replace(day=1)
    first = _month("from", from_) or last.replace(year=last.year - 1)
    items: list[RatePoint] = payment_rates(session, under, by, first, last)
    return RatePage(by=by, from_=f"{first:%Y-%m}", to=f"{last:%Y-%m}", items=items)
