"""Active alarms as a reason to visit: the alarms' source of ``twin.operations.inspection_due.ATTENTION``.

An inspector planning a round should stop first where something is wrong now: a device with an
alarm raised or acknowledged (not yet cleared), or a space with a place alarm on it. A cleared
alarm waits for its close and is no reason to walk there.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from twin.alarms.severity import AlarmState
from twin.store.alarms import AlarmRow

ACTIVE = (AlarmState.RAISED.value, AlarmState.ACKNOWLEDGED.value)


def active_alarms(
    session: Session, device_ids: Sequence[int], space_ids: Sequence[int]
) -> dict[tuple[str, int], list[str]]:
    """Name the active alarms on these devices and, for place alarms, on these spaces (``alarm:7``)."""
    out: dict[tuple[str, int], list[str]] = {}
    query = select(AlarmRow.id, AlarmRow.device_id, AlarmRow.place_id).where(
        AlarmRow.state.in_(ACTIVE),
        or_(
            AlarmRow.device_id.in_(list(device_ids)),
            AlarmRow.device_id.is_(None) & AlarmRow.place_id.in_(list(space_ids)),
        ),
    )
    for alarm_id, device_id, place_id in session.execute(query.order_by(AlarmRow.id)):
        key = ("device", device_id) if device_id is not None else ("space", place_id)
        out.setdefault(key, []).append(f"alarm:{alarm_id}")
    return out
