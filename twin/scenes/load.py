"""Load a scene into the twin: site, IFC and GIS imports, MQTT bindings, residents — idempotently.

The imports run as import jobs through the same :class:`twin.imports.ImportRunner` as
``twin import-ifc`` (each one transaction, updating by GlobalId, so a second load finds nothing to
change); bindings and residents then go in one transaction of their own. Bills, alarm rules and
inspection plans are read and checked, and counted: their stores belong to the operations and
alarms issues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from twin.auth.pii import PiiKey
from twin.events import EventBus
from twin.graph.places import create_site
from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, JobStatus, SiteRef, get_job
from twin.scenes.bind import add_residents, bind_devices, profile_namespaces, units_by_address
from twin.scenes.files import read_bills, read_bindings, read_residents
from twin.scenes.generate import community_of
from twin.scenes.model import Scene, SceneError
from twin.schemas import Identifier, SiteCreate
from twin.store.engine import session_factory
from twin.store.models import DeviceRow, IdentifierRow, PlaceRow, RelationRow, SiteRow
from twin.store.security import ResidentRow

SCENE_NAMESPACE = "scene"


@dataclass
class LoadReport:
    """What a load did and what the site holds afterwards."""

    site_id: int
    jobs: list[dict[str, Any]] = field(default_factory=list)
    bound: int = 0
    via: int = 0
    residents_added: int = 0
    bills_read: int = 0
    alarm_rules: int = 0
    inspection_plans: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def load(scene: Scene, engine: Engine, registry: ImporterRegistry, assets: Path, pii: PiiKey, actor: str) -> LoadReport:
    """Load every part of ``scene`` into the database behind ``engine``."""
    bindings = [*scene.bindings, *(read_bindings(scene.bindings_file) if scene.bindings_file else [])]
    residents = read_residents(scene.residents_file) if scene.residents_file else []
    bills = read_bills(scene.billing_file) if scene.billing_file else []
    namespaces = profile_namespaces(scene.simulator.profiles)
    events = EventBus()
    site_id = _site(scene, engine, events, actor)
    report = LoadReport(site_id, bills_read=len(bills))
    report.alarm_rules, report.inspection_plans = len(scene.alarm_rules), len(scene.inspection_plans)
    runner = ImportRunner(engine, events, registry, assets)
    try:
        for path in scene.ifc:
            report.jobs.append(_import(runner, ImportKind.IFC, path, site_id, {"model": path.stem}, actor))
        for layer in scene.gis:
            options = {"kind": layer.kind, "name": layer.name}
            report.jobs.append(_import(runner, ImportKind.GIS, layer.path, site_id, options, actor))
    finally:
        runner.close()
    gis_layers = tuple(layer.name or layer.path.stem for layer in scene.gis)
    community = community_of(scene)
    guids = {s.address: community.guid(s.key) for _, _, s in community.units() if s.address} if community else {}
    with session_factory(engine)() as session:
        events.bind(session)
        session.info["actor"] = actor
        with session.begin():
            counts = bind_devices(session, site_id, bindings, namespaces, gis_layers)
            units = units_by_address(session, site_id, guids)
            report.residents_added = add_residents(session, units, residents, pii)
        report.bound, report.via = counts.bindings, counts.via
        report.totals = totals(session, site_id)
    return report


def _site(scene: Scene, engine: Engine, events: EventBus, actor: str) -> int:
    """Return the scene's site, creating it at the scene's origin (with its boundary) the first time."""
    with session_factory(engine)() as session:
        events.bind(session)
        session.info["actor"] = actor
        with session.begin():
            found = session.get(IdentifierRow, (SCENE_NAMESPACE, scene.name))
            if found is not None and found.place_id is not None:
                return found.place_id
            site = scene.site
            row = create_site(
                session,
                SiteCreate(
                    name=site.name,
                    origin_lat=site.latitude,
                    origin_lon=site.longitude,
                    origin_height=site.height,
                    boundary=_boundary(scene),
                    properties={"scene": scene.name, "crs": site.crs},
                    identifiers=[Identifier(namespace=SCENE_NAMESPACE, value=scene.name)],
                ),
            )
            return row.id


def _boundary(scene: Scene) -> dict[str, Any] | None:
    for layer in scene.gis:
        if (layer.name or layer.path.stem) == "boundary" and layer.path.is_file():
            features = json.loads(layer.path.read_text(encoding="utf-8")).get("features", [])
            if features:
                geometry: dict[str, Any] = features[0]["geometry"]
                return geometry
    return None


def _import(
    runner: ImportRunner, kind: ImportKind, path: Path, site_id: int, options: dict[str, Any], actor: str
) -> dict[str, Any]:
    request = ImportRequest(
        kind=kind,
        path=path,
        file_name=path.name,
        site=SiteRef(id=site_id),
        options={k: v for k, v in options.items() if v is not None},
        created_by=actor,
    )
    job_id = runner.run(request)
    with session_factory(runner.engine)() as session:
        job = get_job(session, job_id)
        if job.status != JobStatus.DONE.value:
            raise SceneError(f"import of {path.name} failed: {job.error}", "fix the file and load again")
        return {"file": path.name, "job": job_id, "counts": dict(job.counts)}


def totals(session: Session, site_id: int) -> dict[str, int]:
    """Return what the site holds: places by kind, live devices, MQTT bindings, gateway links, residents."""
    out: dict[str, int] = {}
    for kind, count in session.execute(
        select(PlaceRow.kind, func.count())
        .where(PlaceRow.site_id == site_id, PlaceRow.retired_at.is_(None))
        .group_by(PlaceRow.kind)
    ):
        out[f"{kind}s"] = count
    live = (DeviceRow.site_id == site_id) & DeviceRow.retired_at.is_(None)
    out["devices"] = session.scalar(select(func.count()).select_from(DeviceRow).where(live)) or 0
    out["mqtt_bindings"] = (
        session.scalar(
            select(func.count())
            .select_from(IdentifierRow)
            .join(DeviceRow, DeviceRow.id == IdentifierRow.device_id)
            .where(live, IdentifierRow.namespace == "mqtt")
        )
        or 0
    )
    out["via_links"] = (
        session.scalar(
            select(func.count())
            .select_from(RelationRow)
            .join(DeviceRow, DeviceRow.id == RelationRow.source_device_id)
            .where(live, RelationRow.kind == "via")
        )
        or 0
    )
    site = session.get(SiteRow, site_id)
    out["residents"] = (
        (
            session.scalar(
                select(func.count())
                .select_from(ResidentRow)
                .join(PlaceRow, PlaceRow.id == ResidentRow.unit_id)
                .where(PlaceRow.site_id == site_id)
            )
            or 0
        )
        if site is not None
        else 0
    )
    return out
