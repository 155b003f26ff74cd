"""A scene's bills in the billing store, through the same import as an ERP export uploaded by finance.

The scene's billing.csv *is* such an export, so it goes through the one set of rules (units by
address, references unique for good, the paid amount set rather than added). A row the import
refuses is a mistake in the scene and refuses the load, naming the file and line; a file the
store already holds changes nothing and so writes neither an import report nor an audit row.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from twin.errors import ValidationError
from twin.operations.billing_import import plan_import, write_import
from twin.scenes.model import SceneError

SHOWN = 3
"""Refused rows quoted in the error; the rest are counted."""


def store_bills(session: Session, site_id: int, path: Path) -> tuple[int, int]:
    """Import the scene's bills; return (rows read, charges created or updated)."""
    data = path.read_bytes()
    try:
        planned = plan_import(session, site_id, data)
    except ValidationError as exc:
        raise SceneError(f"{path}: {exc.message}") from None
    if planned.refused:
        shown = "; ".join(f"{path}:{r.row}: {r.reason}" for r in planned.refused[:SHOWN])
        more = len(planned.refused) - SHOWN
        raise SceneError(shown + (f" (and {more} more rows)" if more > 0 else ""), "fix the bills and load again")
    if planned.changes:
        write_import(session, planned, data, path.name)
    return planned.rows, planned.changes
