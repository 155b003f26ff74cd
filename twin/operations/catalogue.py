"""The declared vocabularies of the property's work: tickets, billing and inspections.

Ticket states, categories, priorities and SLAs; billing items and statuses; inspection
frequencies and outcomes. Each is declared once with its zh-CN and English labels and the colour the view paints (the
``twin.catalogue`` habit), so the API, the database checks, the legend and the CLI read one list.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from twin.catalogue import DeviceKind, Label


class TicketStatus(StrEnum):
    """Where a ticket stands in its workflow."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


TICKET_STATUSES: dict[TicketStatus, Label] = {
    TicketStatus.OPEN: Label("待派单", "Open", "#e63946"),
    TicketStatus.ASSIGNED: Label("已派单", "Assigned", "#f4a261"),
    TicketStatus.IN_PROGRESS: Label("处理中", "In progress", "#457b9d"),
    TicketStatus.RESOLVED: Label("已解决", "Resolved", "#2a9d8f"),
    TicketStatus.CLOSED: Label("已关闭", "Closed", "#adb5bd"),
}
OVERDUE = Label("超时", "Overdue", "#9d0208")
"""Painted over a ticket's status colour when its SLA due time has passed."""

ACTIVE_TICKET = (TicketStatus.OPEN, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)
"""States in which work is still owed: only these can be overdue."""

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.ASSIGNED}),
    TicketStatus.ASSIGNED: frozenset({TicketStatus.IN_PROGRESS}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.OPEN}),
    TicketStatus.CLOSED: frozenset({TicketStatus.OPEN}),
}
"""The workflow: open → assigned → in progress → resolved → closed; resolved or closed reopen to open."""


class TicketPriority(StrEnum):
    """How soon the work must be done."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


TICKET_PRIORITIES: dict[TicketPriority, Label] = {
    TicketPriority.URGENT: Label("紧急", "Urgent", "#d62828"),
    TicketPriority.HIGH: Label("高", "High", "#f77f00"),
    TicketPriority.NORMAL: Label("普通", "Normal", "#fcbf49"),
    TicketPriority.LOW: Label("低", "Low", "#adb5bd"),
}


class TicketCategory(StrEnum):
    """What trade the work needs; decides the SLA with the priority."""

    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    LIGHTING = "lighting"
    ELEVATOR = "elevator"
    FIRE_SAFETY = "fire_safety"
    SECURITY = "security"
    HVAC = "hvac"
    STRUCTURE = "structure"
    CLEANING = "cleaning"
    GREENERY = "greenery"
    OTHER = "other"


TICKET_CATEGORIES: dict[TicketCategory, Label] = {
    TicketCategory.PLUMBING: Label("给排水", "Plumbing", "#0077b6"),
    TicketCategory.ELECTRICAL: Label("电气", "Electrical", "#f6ae2d"),
    TicketCategory.LIGHTING: Label("照明", "Lighting", "#f9c74f"),
    TicketCategory.ELEVATOR: Label("电梯", "Elevator", "#7768ae"),
    TicketCategory.FIRE_SAFETY: Label("消防", "Fire safety", "#d62828"),
    TicketCategory.SECURITY: Label("安防门禁", "Security and access", "#495057"),
    TicketCategory.HVAC: Label("暖通", "Heating and ventilation", "#577590"),
    TicketCategory.STRUCTURE: Label("土建", "Building fabric", "#9c6644"),
    TicketCategory.CLEANING: Label("保洁", "Cleaning", "#90be6d"),
    TicketCategory.GREENERY: Label("绿化", "Greenery", "#43aa8b"),
    TicketCategory.OTHER: Label("其他", "Other", "#adb5bd"),
}

_P = TicketPriority
SLA_HOURS: dict[TicketCategory, dict[TicketPriority, int]] = {
    TicketCategory.FIRE_SAFETY: {_P.URGENT: 2, _P.HIGH: 4, _P.NORMAL: 24, _P.LOW: 72},
    TicketCategory.ELEVATOR: {_P.URGENT: 2, _P.HIGH: 4, _P.NORMAL: 24, _P.LOW: 72},
    TicketCategory.PLUMBING: {_P.URGENT: 2, _P.HIGH: 8, _P.NORMAL: 24, _P.LOW: 72},
    TicketCategory.ELECTRICAL: {_P.URGENT: 2, _P.HIGH: 8, _P.NORMAL: 24, _P.LOW: 72},
    TicketCategory.SECURITY: {_P.URGENT: 4, _P.HIGH: 8, _P.NORMAL: 48, _P.LOW: 120},
    TicketCategory.LIGHTING: {_P.URGENT: 4, _P.HIGH: 24, _P.NORMAL: 48, _P.LOW: 120},
    TicketCategory.HVAC: {_P.URGENT: 4, _P.HIGH: 24, _P.NORMAL: 48, _P.LOW: 120},
    TicketCategory.STRUCTURE: {_P.URGENT: 8, _P.HIGH: 24, _P.NORMAL: 72, _P.LOW: 168},
    TicketCategory.CLEANING: {_P.URGENT: 8, _P.HIGH: 24, _P.NORMAL: 48, _P.LOW: 120},
    TicketCategory.GREENERY: {_P.URGENT: 24, _P.HIGH: 48, _P.NORMAL: 72, _P.LOW: 168},
    TicketCategory.OTHER: {_P.URGENT: 4, _P.HIGH: 24, _P.NORMAL: 72, _P.LOW: 168},
}
"""Hours from opening to the SLA due time, by category and priority (urgent repairs: two hours)."""


def sla(category: TicketCategory, priority: TicketPriority) -> timedelta:
    """Return how long a ticket of this category and priority may stay unresolved."""
    return timedelta(hours=SLA_HOURS[category][priority])


DEFECT_CATEGORY: dict[DeviceKind, TicketCategory] = {
    DeviceKind.SMOKE_DETECTOR: TicketCategory.FIRE_SAFETY,
    DeviceKind.HEAT_DETECTOR: TicketCategory.FIRE_SAFETY,
    DeviceKind.MANUAL_CALL_POINT: TicketCategory.FIRE_SAFETY,
    DeviceKind.SPRINKLER: TicketCategory.FIRE_SAFETY,
    DeviceKind.HYDRANT: TicketCategory.FIRE_SAFETY,
    DeviceKind.FIRE_PUMP: TicketCategory.FIRE_SAFETY,
    DeviceKind.FIRE_EXTINGUISHER: TicketCategory.FIRE_SAFETY,
    DeviceKind.EMERGENCY_EXIT: TicketCategory.FIRE_SAFETY,
    DeviceKind.AED: TicketCategory.FIRE_SAFETY,
    DeviceKind.WATER_PUMP: TicketCategory.PLUMBING,
    DeviceKind.PRESSURE_SENSOR: TicketCategory.PLUMBING,
    DeviceKind.LEVEL_SENSOR: TicketCategory.PLUMBING,
    DeviceKind.LEAK_SENSOR: TicketCategory.PLUMBING,
    DeviceKind.WATER_METER: TicketCategory.PLUMBING,
    DeviceKind.ELECTRICITY_METER: TicketCategory.ELECTRICAL,
    DeviceKind.TRANSFORMER: TicketCategory.ELECTRICAL,
    DeviceKind.EV_CHARGER: TicketCategory.ELECTRICAL,
    DeviceKind.ELEVATOR: TicketCategory.ELEVATOR,
    DeviceKind.ESCALATOR: TicketCategory.ELEVATOR,
    DeviceKind.CAMERA: TicketCategory.SECURITY,
    DeviceKind.ACCESS_GATE: TicketCategory.SECURITY,
    DeviceKind.LIGHT: TicketCategory.LIGHTING,
    DeviceKind.FAN: TicketCategory.HVAC,
}
"""The trade a defect found on a device of each kind goes to, when the inspector names none."""


class BillingItem(StrEnum):
    """What a charge is for (收费项目)."""

    PROPERTY_FEE = "property_fee"
    WATER = "water"
    ELECTRICITY = "electricity"
    GAS = "gas"
    PARKING = "parking"
    SHARED_UTILITIES = "shared_utilities"
    WASTE = "waste"
    OTHER = "other"


BILLING_ITEMS: dict[BillingItem, Label] = {
    BillingItem.PROPERTY_FEE: Label("物业费", "Property management fee", "#3a86ff"),
    BillingItem.WATER: Label("水费", "Water", "#33a1fd"),
    BillingItem.ELECTRICITY: Label("电费", "Electricity", "#f6ae2d"),
    BillingItem.GAS: Label("燃气费", "Gas", "#9bc53d"),
    BillingItem.PARKING: Label("停车费", "Parking", "#6c757d"),
    BillingItem.SHARED_UTILITIES: Label("公摊费", "Shared utilities", "#8338ec"),
    BillingItem.WASTE: Label("垃圾处理费", "Waste collection", "#588157"),
    BillingItem.OTHER: Label("其他费用", "Other", "#adb5bd"),
}


_ITEM_NAMES = {name: item for item, label in BILLING_ITEMS.items() for name in (item.value, label.zh)}


def billing_item(text: str) -> BillingItem | None:
    """Read an item by its key or its Chinese name (物业费 → property_fee); None when it is neither."""
    return _ITEM_NAMES.get(text.strip())


class BillingStatus(StrEnum):
    """Where a household (or one charge) stands with its fees."""

    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    UNPAID = "unpaid"
    """Billed and not yet due."""
    OVERDUE = "overdue"
    NO_BILLS = "no_bills"


BILLING_STATUSES: dict[BillingStatus, Label] = {
    BillingStatus.PAID: Label("已缴清", "Paid", "#2a9d8f"),
    BillingStatus.PARTLY_PAID: Label("部分缴纳", "Partly paid", "#e9c46a"),
    BillingStatus.UNPAID: Label("待缴", "Not yet due", "#8ecae6"),
    BillingStatus.OVERDUE: Label("欠费", "Overdue", "#e63946"),
    BillingStatus.NO_BILLS: Label("无账单", "No bills", "#ced4da"),
}


class Every(StrEnum):
    """How often a plan's targets are inspected."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


EVERY: dict[Every, Label] = {
    Every.DAY: Label("每日", "Daily", "#4361ee"),
    Every.WEEK: Label("每周", "Weekly", "#4895ef"),
    Every.MONTH: Label("每月", "Monthly", "#4cc9f0"),
    Every.QUARTER: Label("每季度", "Quarterly", "#7209b7"),
    Every.YEAR: Label("每年", "Yearly", "#b5179e"),
}


class DueState(StrEnum):
    """Whether an inspection target needs a visit."""

    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"


DUE_STATES: dict[DueState, Label] = {
    DueState.OK: Label("正常", "Up to date", "#2a9d8f"),
    DueState.DUE: Label("待巡检", "Due", "#e9c46a"),
    DueState.OVERDUE: Label("逾期未检", "Overdue", "#e63946"),
}


class Outcome(StrEnum):
    """What an inspector found at a stop."""

    OK = "ok"
    DEFECT = "defect"


OUTCOMES: dict[Outcome, Label] = {
    Outcome.OK: Label("正常", "OK", "#2a9d8f"),
    Outcome.DEFECT: Label("有缺陷", "Defect", "#e63946"),
}


def _labels(table: dict[Any, Label]) -> dict[str, dict[str, str]]:
    return {str(key): {"zh": label.zh, "en": label.en, "colour": label.colour} for key, label in table.items()}


def as_json() -> dict[str, Any]:
    """Return every vocabulary of this module as plain data, for the API and the view's legend."""
    return {
        "ticket_status": _labels(TICKET_STATUSES),
        "ticket_overdue": {"zh": OVERDUE.zh, "en": OVERDUE.en, "colour": OVERDUE.colour},
        "ticket_priority": _labels(TICKET_PRIORITIES),
        "ticket_category": _labels(TICKET_CATEGORIES),
        "ticket_transitions": {str(k): sorted(str(v) for v in vs) for k, vs in TRANSITIONS.items()},
        "sla_hours": {str(c): {str(p): h for p, h in row.items()} for c, row in SLA_HOURS.items()},
        "billing_item": _labels(BILLING_ITEMS),
        "billing_status": _labels(BILLING_STATUSES),
        "inspection_every": _labels(EVERY),
        "inspection_due": _labels(DUE_STATES),
        "inspection_outcome": _labels(OUTCOMES),
    }
