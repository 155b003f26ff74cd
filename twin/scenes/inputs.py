"""Which of a scene's model files the site already holds, by their SHA-256 as last loaded.

A second load imports again only the IFC and GIS files whose bytes changed. That is what makes
it change nothing: the IFC importer cannot tell a household from a room (IFC has no usage field
for spaces), so the load marks the plan's units afterwards, and a re-import of the same file
would turn them back into rooms first. It also saves the minute a large model takes to import.
The fingerprints live in the site's properties (``inputs``), written in the load's last
transaction, so a load that fails half-way imports everything again the next time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from twin.graph.places import update_place
from twin.schemas import PlaceUpdate
from twin.store.models import SiteRow

KEY = "inputs"
CHUNK = 1 << 20


def fingerprints(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """Return each file's SHA-256 by its path relative to the scene's folder."""
    out = {}
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while block := stream.read(CHUNK):
                digest.update(block)
        out[path.relative_to(root).as_posix()] = digest.hexdigest()
    return out


def loaded_inputs(session: Session, site_id: int) -> dict[str, str]:
    """Return the fingerprints of the files the site's last complete load imported."""
    site = session.get(SiteRow, site_id)
    found = (site.properties or {}).get(KEY) if site is not None else None
    return dict(found) if isinstance(found, dict) else {}


def remember_inputs(session: Session, site_id: int, prints: dict[str, str]) -> bool:
    """Record the files this load imported (an audited change of the site); False when they were known."""
    site = session.get(SiteRow, site_id)
    if site is None:
        return False
    properties = dict(site.properties or {})
    if properties.get(KEY) == prints:
        return False
    update_place(session, site_id, PlaceUpdate(properties={**properties, KEY: prints}))
    return True
