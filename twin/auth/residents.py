"""The use case that records a resident: encrypted at rest, audited with the name masked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from twin.audit import audit
from twin.auth.pii import PiiKey, mask_name
from twin.store.security import ResidentRow


def add_resident(
    session: Session,
    key: PiiKey,
    unit_id: int,
    name: str,
    *,
    phone: str | None = None,
    id_number: str | None = None,
    relation: str = "owner",
) -> ResidentRow:
    """Store a resident of a unit; the audit log never holds the data in clear."""
    row = ResidentRow(
        unit_id=unit_id,
        name_enc=key.encrypt(name),
        relation=relation,
        phone_enc=key.encrypt(phone) if phone else None,
        id_number_enc=key.encrypt(id_number) if id_number else None,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        action="resident.add",
        kind="resident",
        object_id=row.id,
        after={"unit_id": unit_id, "name": mask_name(name), "relation": relation},
    )
    return row
