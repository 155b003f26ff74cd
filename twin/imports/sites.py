"""The site an import goes into: found by id or name, created from the file's own location when new.

A site's origin defines the local frame of everything in it, so it is never moved under existing
buildings. A site created without a known origin (0, 0: Null Island is no community) and still
empty adopts the first georeferenced file's origin.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.audit import snapshot
from twin.graph.frame import local_frame_proj
from twin.graph.places import create_site, get_place
from twin.imports.changes import announce
from twin.imports.model import ImportInputError, SiteRef
from twin.schemas import SiteCreate
from twin.store.models import BuildingRow, SiteRow

Origin = tuple[float, float, float]
"""Latitude, longitude (WGS84 degrees) and ellipsoidal height (metres)."""


def find_site(session: Session, ref: SiteRef) -> SiteRow | None:
    """Return the site ``ref`` names, or None when no site has that name (an id must exist)."""
    if ref.id is not None:
        return get_place(session, SiteRow, ref.id, "site")
    found = list(
        session.scalars(select(SiteRow).where(SiteRow.name == ref.name, SiteRow.retired_at.is_(None)).limit(2))
    )
    if len(found) > 1:
        raise ImportInputError(f"two sites are named {ref.name!r}", "give the site's id instead")
    return found[0] if found else None


def resolve_site(session: Session, ref: SiteRef, origin: Callable[[], Origin | None]) -> SiteRow:
    """Return the site ``ref`` names, creating it (named) or setting its unset origin from ``origin()``."""
    return open_site(session, ref, origin)[0]


def open_site(session: Session, ref: SiteRef, origin: Callable[[], Origin | None]) -> tuple[SiteRow, bool]:
    """Resolve the site as :func:`resolve_site` does, and tell whether this transaction created it.

    A site created here holds nothing but what this transaction writes into it, so an importer
    need not ask the database what the site already has.
    """
    site = find_site(session, ref)
    if site is None:
        return _create(session, ref, origin()), True
    if has_no_origin(site) and not _has_buildings(session, site):
        located = origin()
        if located is not None:
            before = snapshot(site)
            site.origin_lat, site.origin_lon, site.origin_height = located
            announce(session, "update", site, before)
    return site, False


def has_no_origin(site: SiteRow) -> bool:
    """Tell whether a site was created without a real origin (0, 0)."""
    return site.origin_lat == 0.0 and site.origin_lon == 0.0


def site_frame(site: SiteRow) -> str:
    """Return the PROJ definition of the site's local frame."""
    return local_frame_proj(site.origin_lat, site.origin_lon, site.origin_height)


def _create(session: Session, ref: SiteRef, origin: Origin | None) -> SiteRow:
    if origin is None:
        raise ImportInputError(
            f"{ref} does not exist and the file does not say where it is",
            "create the site first (POST /api/sites) and import into its id, or give a georeference",
        )
    lat, lon, height = origin
    return create_site(
        session, SiteCreate(name=ref.name or "site", origin_lat=lat, origin_lon=lon, origin_height=height)
    )


def _has_buildings(session: Session, site: SiteRow) -> bool:
    stmt = select(BuildingRow.id).where(BuildingRow.site_id == site.id, BuildingRow.retired_at.is_(None)).limit(1)
    return session.scalar(stmt) is not None
