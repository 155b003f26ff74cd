"""Load a scene into the twin: site, IFC and GIS imports, bindings, residents, bills, rules, plans — idempotently.

The imports run as import jobs through the same :class:`twin.imports.ImportRunner` as
``twin import-ifc`` (each one transaction, updating by GlobalId, so a second load finds nothing to
change). Everything else goes in one transaction of its own, through the use cases the API and
the CLI use: bindings and gateway links, what the plant feeds (a generated scene's pumps and
transformer), the units' addresses and residents (encrypted), the bills (the billing import),
the alarm rules (checked against the site's devices) and the inspection plans. A mistake in any
of them writes none of them; a second load finds nothing to change and writes no audit row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from twin.alarms.rules import Vocabulary
from twin.auth.pii import PiiKey
from twin.catalogue import RelationKind
from twin.events import EventBus
from twin.graph.places import create_site
from twin.imports import ImporterRegistry, ImportKind, ImportRequest, ImportRunner, JobStatus, SiteRef, get_job
from twin.scenes.bind import add_residents, bind_devices, profile_namespaces, units_by_address
from twin.scenes.charges import store_bills
from twin.scenes.feeds import plan_feeds, store_feeds
from twin.scenes.files import read_bindings, read_residents
from twin.scenes.generate import community_of
from twin.scenes.inputs import fingerprints, loaded_inputs, remember_inputs
from twin.scenes.model import Scene, SceneError
from twin.scenes.plans import store_plans
from twin.scenes.rules import store_rules
from twin.schemas import Identifier, SiteCreate
from twin.store.engine import session_factory
from twin.store.models import DeviceRow, IdentifierRow, PlaceRow, RelationRow, SiteRow
from twin.store.operations import ChargeRow, InspectionPlanRow
from twin.store.security import ResidentRow

SCENE_NAMESPACE = "scene"


@dataclass
class LoadReport:
    """What a load did and what the site holds afterwards."""

    site_id: int
    jobs: list[dict[str, Any]] = field(default_factory=list)
    bound: int = 0
    via: int = 0
    """Gateway links added (0 on a second load)."""
    feeds: int = 0
    """``feeds`` relations added: pumps to floors, the transformer to buildings (0 on a second load)."""
    residents_added: int = 0
    bills_read: int = 0
    bills_changed: int = 0
    """Charges created or updated (0 on a second load: the store already holds the file)."""
    rules_changed: int = 0
    plans_changed: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def load(
    scene: Scene,
    engine: Engine,
    registry: ImporterRegistry,
    assets: Path,
    pii: PiiKey,
    actor: str,
    *,
    quantities: Vocabulary,
) -> LoadReport:
    """Load every part of ``scene`` into the database behind ``engine``.

    ``quantities``: what alarm rules may name (the live path's decoder knows them, so the
    composition root hands them in); the site's device tags are added here.
    """
    bindings = [*scene.bindings, *(read_bindings(scene.bindings_file) if scene.bindings_file else [])]
    residents = read_residents(scene.residents_file) if scene.residents_file else []
    namespaces = profile_namespaces(scene.simulator.profiles)
    events = EventBus()
    site_id = _site(scene, engine, events, actor)
    report = LoadReport(site_id)
    inputs: list[tuple[ImportKind, Path, dict[str, Any]]] = [
        (ImportKind.IFC, path, {"model": path.stem}) for path in scene.ifc
    ]
    inputs += [(ImportKind.GIS, layer.path, {"kind": layer.kind, "name": layer.name}) for layer in scene.gis]
    prints = fingerprints(scene.root, [path for _, path, _ in inputs])
    with session_factory(engine)() as session:
        known = loaded_inputs(session, site_id)
    runner = ImportRunner(engine, events, registry, assets)
    try:
        for kind, path, options in inputs:
            key = path.relative_to(scene.root).as_posix()
            if known.get(key) == prints[key]:
                report.jobs.append({"file": path.name, "skipped": "unchanged since the last load"})
            else:
                report.jobs.append(_import(runner, kind, path, site_id, options, actor))
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
            report.feeds = store_feeds(session, site_id, list(plan_feeds(community)) if community else [])
            units = units_by_address(session, site_id, guids)
            report.residents_added = add_residents(session, units, residents, pii)
            if scene.billing_file is not None:
                report.bills_read, report.bills_changed = store_bills(session, site_id, scene.billing_file)
            report.rules_changed = store_rules(session, site_id, scene.root, quantities)
            where = str(scene.root / "scene.toml")
            report.plans_changed = store_plans(session, site_id, scene.inspection_plans, where)
            remember_inputs(session, site_id, prints)
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
    """Return what the site holds: places by kind, devices, MQTT bindings, gateway links, charges, plans, residents."""
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
    for kind in (RelationKind.VIA, RelationKind.FEEDS):
        out[f"{kind.value}_links"] = (
            session.scalar(
                select(func.count())
                .select_from(RelationRow)
                .join(DeviceRow, DeviceRow.id == RelationRow.source_device_id)
                .where(live, RelationRow.kind == kind.value)
            )
            or 0
        )
    out["charges"] = session.scalar(select(func.count()).where(ChargeRow.site_id == site_id)) or 0
    out["inspection_plans"] = session.scalar(select(func.count()).where(InspectionPlanRow.site_id == site_id)) or 0
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
