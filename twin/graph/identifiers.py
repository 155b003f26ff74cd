"""External identity: (namespace, value) pairs that name a place or a device.

An IFC GlobalId, an MQTT device id and a vendor serial can all name the same device (Home
Assistant's ``identifiers`` habit). A pair names one thing only: binding it to a second one is
refused, which is how "a floor claimed by two buildings" is caught on re-import.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from twin.errors import ValidationError
from twin.schemas import Identifier
from twin.store.models import IdentifierRow


def bind_identifiers(
    session: Session, identifiers: Iterable[Identifier], *, place_id: int | None = None, device_id: int | None = None
) -> None:
    """Attach external names to a place or device, refusing a name that already names something else."""
    for ident in identifiers:
        existing = session.get(IdentifierRow, (ident.namespace, ident.value))
        if existing is not None:
            if existing.place_id == place_id and existing.device_id == device_id:
                continue
            owner = f"place {existing.place_id}" if existing.place_id else f"device {existing.device_id}"
            raise ValidationError("identifiers", f"{ident.namespace}:{ident.value} already names {owner}")
        session.add(IdentifierRow(namespace=ident.namespace, value=ident.value, place_id=place_id, device_id=device_id))
    session.flush()


def resolve(session: Session, namespace: str, value: str) -> IdentifierRow | None:
    """Return what an external name names, if anything."""
    return session.get(IdentifierRow, (namespace, value))
