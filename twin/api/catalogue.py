"""The one vocabulary endpoint: every declared kind and status with its labels and colour.

The view, the wall, the inspector and the responder read their legends, colours and the order of
alarm severities from here, so each list is declared once (in its enum module) and served once.
Dictionaries keep the declaration's order, except alarm severities, which are sent in rising
order: the view ranks a severity by its position.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from twin.alarms.severity import SEVERITIES, STATES, AlarmSeverity
from twin.catalogue import DEVICE_HEALTH, DEVICE_KINDS, SPACE_KINDS, Label
from twin.operations import catalogue as ops

router = APIRouter(prefix="/api", tags=["catalogue"])
K = TypeVar("K", bound=StrEnum)


class LabelPublic(BaseModel):
    """A declared key's name in zh-CN and English and the colour the view paints it."""

    zh: str
    en: str
    colour: str


class DeviceKindPublic(LabelPublic):
    """A device kind's label, and whether it matters in a fire (the responder's filter)."""

    fire_safety: bool


class CataloguePublic(BaseModel):
    """Every vocabulary the pages read, keyed by the value the API and the store use."""

    device_kinds: dict[str, DeviceKindPublic]
    space_kinds: dict[str, LabelPublic]
    device_health: dict[str, LabelPublic]
    alarm_severity: dict[str, LabelPublic]
    """In rising order: warning first, critical last."""
    alarm_state: dict[str, LabelPublic]
    ticket_status: dict[str, LabelPublic]
    ticket_priority: dict[str, LabelPublic]
    ticket_category: dict[str, LabelPublic]
    billing_status: dict[str, LabelPublic]
    inspection_outcome: dict[str, LabelPublic]


def _labels(table: Mapping[K, Label]) -> dict[str, LabelPublic]:
    return {key.value: LabelPublic(zh=lb.zh, en=lb.en, colour=lb.colour) for key, lb in table.items()}


def build() -> CataloguePublic:
    """Return the catalogue from the declared enums (pure: the same answer for every caller)."""
    rising = sorted(SEVERITIES, key=lambda s: AlarmSeverity(s).rank)
    return CataloguePublic(
        device_kinds={
            k.value: DeviceKindPublic(zh=v.label.zh, en=v.label.en, colour=v.label.colour, fire_safety=v.fire_safety)
            for k, v in DEVICE_KINDS.items()
        },
        space_kinds=_labels(SPACE_KINDS),
        device_health=_labels(DEVICE_HEALTH),
        alarm_severity=_labels({s: SEVERITIES[s] for s in rising}),
        alarm_state=_labels(STATES),
        ticket_status=_labels(ops.TICKET_STATUSES),
        ticket_priority=_labels(ops.TICKET_PRIORITIES),
        ticket_category=_labels(ops.TICKET_CATEGORIES),
        billing_status=_labels(ops.BILLING_STATUSES),
        inspection_outcome=_labels(ops.OUTCOMES),
    )


_CATALOGUE = build()


@router.get("/catalogue")
def catalogue() -> CataloguePublic:
    """Return the declared kinds and statuses with their zh-CN and English labels and colours."""
    return _CATALOGUE
