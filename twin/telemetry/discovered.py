"""The discovered list: identities that sent data but name no device, and binding one with one call.

The ingest records each unbound identity with what it sent and the unit address its id spells
(``hint``); here that hint becomes a suggested place, resolved within the caller's scope. Binding
adds an identifier to an existing device, or creates the device in a place with the identifier,
and removes the identity from the list; the registry event it records makes every ingest reload
its bindings after the commit, so readings flow to the device from then on.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, aliased

from twin.audit import audit
from twin.auth.roles import Permission
from twin.auth.scope import check_allowed, place_condition
from twin.catalogue import DeviceKind
from twin.errors import ValidationError
from twin.events import RegistryEvent, record
from twin.graph.devices import create_device, get_device
from twin.graph.identifiers import bind_identifiers
from twin.graph.paths import scopes
from twin.graph.queries import find_unit
from twin.schemas import DeviceCreate, Identifier
from twin.store.models import DeviceRow, FloorRow, PlaceRow
from twin.store.telemetry import DiscoveredRow

MQTT_NAMESPACE = "mqtt"
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")


def identifier_for(namespace: str, value: str) -> Identifier:
    """Return the identifier that binds an MQTT identity: its own namespace when valid, else ``mqtt``."""
    if _NAMESPACE.match(namespace) and len(value) <= 200:
        return Identifier(namespace=namespace, value=value)
    spelled = f"{namespace}/{value}"
    if len(spelled) > 200:
        raise ValidationError("value", "the identity is longer than an identifier may be (200 characters)")
    return Identifier(namespace=MQTT_NAMESPACE, value=spelled)


def list_discovered(session: Session, limit: int, profile: str | None = None) -> list[DiscoveredRow]:
    """Return the unbound identities, most recently heard first."""
    stmt = select(DiscoveredRow).order_by(DiscoveredRow.last_seen.desc(), DiscoveredRow.value).limit(limit)
    if profile is not None:
        stmt = stmt.where(DiscoveredRow.profile == profile)
    return list(session.scalars(stmt))


def suggest(session: Session, rows: list[DiscoveredRow]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Resolve each row's address hint to places the caller may see (one query per distinct address)."""
    cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        hint = row.hint or {}
        if hint.get("address"):
            key: tuple[Any, ...] = ("unit", hint["address"])
            if key not in cache:
                cache[key] = [
                    {"place_id": unit.id, "kind": "space", "name": unit.name, "address": unit.address}
                    for unit in find_unit(session, hint["address"])
                ]
        elif hint.get("building") and hint.get("floor") is not None:
            key = ("floor", hint["building"], hint["floor"])
            if key not in cache:
                cache[key] = _floors(session, str(hint["building"]), int(hint["floor"]))
        else:
            continue
        out[(row.namespace, row.value)] = cache[key]
    return out


def _floors(session: Session, building: str, level: int) -> list[dict[str, Any]]:
    names = [building, f"{building}栋", f"{building}号楼", f"{building}幢", f"{building}#"]
    owner = aliased(PlaceRow)
    stmt = (
        select(FloorRow.id, FloorRow.name, owner.name.label("building"))
        .join(owner, owner.id == FloorRow.building_id)
        .where(
            FloorRow.level == level,
            FloorRow.retired_at.is_(None),
            owner.retired_at.is_(None),
            or_(owner.code == building, owner.name.in_(names)),
            place_condition(session, FloorRow.path),
        )
        .order_by(FloorRow.id)
    )
    return [
        {"place_id": r.id, "kind": "floor", "name": f"{r.building} {r.name}", "address": None}
        for r in session.execute(stmt)
    ]


def bind_discovered(
    session: Session,
    namespace: str,
    value: str,
    *,
    device_id: int | None = None,
    place_id: int | None = None,
    kind: DeviceKind | None = None,
    name: str | None = None,
) -> DeviceRow:
    """Bind an identity to an existing device, or to a new device of ``kind`` in ``place_id``."""
    ident = identifier_for(namespace, value)
    if (device_id is None) == (place_id is None):
        raise ValidationError("device_id", "give either device_id, or place_id and kind")
    if device_id is not None:
        device = get_device(session, device_id)
        check_allowed(session, Permission.GRAPH_WRITE, device.path, f"device {device.id}")
        bind_identifiers(session, [ident], device_id=device.id)
        record(
            session,
            RegistryEvent(
                "update", "device", device.id, scopes(device.path, device.id), {"identifier": ident.model_dump()}
            ),
        )
        audit(session, action="device.bind", kind="device", object_id=device.id, after=ident.model_dump())
    else:
        if kind is None:
            raise ValidationError("kind", "a new device needs its kind")
        body = DeviceCreate(place_id=place_id or 0, kind=kind, name=(name or value)[:200], identifiers=[ident])
        device = create_device(session, body)
    session.execute(delete(DiscoveredRow).where(DiscoveredRow.namespace == namespace, DiscoveredRow.value == value))
    return device
