"""Use cases that attach a scene to a loaded graph: MQTT bindings, gateway links, households and residents.

Each is idempotent: a binding already there, a gateway link already made, a unit that already has
its residents are left as they are, so loading a scene twice changes nothing. A tag that names no
device, or an identity already bound to another device, is refused by name; the caller's
transaction then writes nothing of the scene's bindings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.auth.pii import PiiKey
from twin.auth.residents import add_resident
from twin.catalogue import RelationKind
from twin.graph.devices import add_relation
from twin.graph.identifiers import bind_identifiers
from twin.scenes.model import Binding, SceneError
from twin.scenes.residents import Resident
from twin.schemas import Identifier, RelationCreate
from twin.store.models import DeviceRow, IdentifierRow, RelationRow, SpaceRow
from twin.store.security import ResidentRow

MQTT = "mqtt"


@dataclass(frozen=True, slots=True)
class BindCounts:
    """What binding added this time (zero on a second load)."""

    bindings: int
    via: int


def profile_namespaces(paths: Iterable[Path]) -> dict[str, str]:
    """Return each vendor profile's namespace by its name, read from the profiles' TOML files."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.toml")) if path.is_dir() else [path]
    out = {}
    for file in files:
        profile = tomllib.loads(file.read_text(encoding="utf-8")).get("profile", {})
        name = profile.get("name") or file.stem
        out[str(name)] = str(profile.get("namespace") or name)
    return out


def find_devices(session: Session, site_id: int, tags: Iterable[str], gis_layers: Iterable[str]) -> dict[str, int]:
    """Return the live devices of a site by tag (an IFC Tag), or the GIS points named by it, in two queries."""
    wanted = set(tags)
    rows = session.execute(
        select(DeviceRow.tag, DeviceRow.id).where(
            DeviceRow.site_id == site_id, DeviceRow.tag.in_(sorted(wanted)), DeviceRow.retired_at.is_(None)
        )
    )
    found = {str(tag): device_id for tag, device_id in rows}
    keys = {f"{site_id}:{layer}:{tag}": tag for tag in wanted - set(found) for layer in gis_layers}
    if keys:
        points = session.execute(
            select(IdentifierRow.value, IdentifierRow.device_id).where(
                IdentifierRow.namespace == "gis",
                IdentifierRow.value.in_(sorted(keys)),
                IdentifierRow.device_id.is_not(None),
            )
        )
        for value, device_id in points:
            if device_id is not None:
                found.setdefault(keys[value], device_id)
    return found


def bind_devices(
    session: Session, site_id: int, bindings: list[Binding], namespaces: dict[str, str], gis_layers: tuple[str, ...]
) -> BindCounts:
    """Give every bound device its ("mqtt", "<namespace>/<id>") identifier and its gateway link.

    What the store already holds is read in a few queries for the whole scene, not one per
    binding: a second load of the demo's 2,044 bindings would otherwise spend 20 s on round trips.
    """
    devices = find_devices(session, site_id, [b.tag for b in bindings], gis_layers)
    values: dict[str, str] = {}
    for binding in bindings:
        if binding.tag not in devices:
            raise SceneError(f"binding {binding.tag}: no device of the site has this tag", "check the IFC's Tag")
        namespace = namespaces.get(binding.profile)
        if namespace is None:
            known = ", ".join(sorted(namespaces))
            raise SceneError(f"binding {binding.tag}: unknown profile {binding.profile!r} (known: {known})")
        values[binding.tag] = f"{namespace}/{binding.identity}"
    taken = select(IdentifierRow.value, IdentifierRow.device_id).where(
        IdentifierRow.namespace == MQTT, IdentifierRow.value.in_(sorted(values.values()))
    )
    bound = {str(value): device_id for value, device_id in session.execute(taken)}
    added = via = 0
    for binding in bindings:
        value, device_id = values[binding.tag], devices[binding.tag]
        if value not in bound:
            bind_identifiers(session, [Identifier(namespace=MQTT, value=value)], device_id=device_id)
            bound[value] = device_id
            added += 1
        elif bound[value] != device_id:
            raise SceneError(f"binding {binding.tag}: {MQTT}:{value} already names device {bound[value]}")
    links = select(RelationRow.source_device_id, RelationRow.target_device_id).where(
        RelationRow.kind == RelationKind.VIA.value, RelationRow.source_device_id.in_(sorted(set(devices.values())))
    )
    linked = {(source, target) for source, target in session.execute(links)}
    for binding in bindings:
        gateway = devices.get(binding.gateway or "")
        if gateway is None or binding.tag == binding.gateway:
            continue
        source = devices[binding.tag]
        if (source, gateway) not in linked:
            add_relation(
                session, RelationCreate(kind=RelationKind.VIA, source_device_id=source, target_device_id=gateway)
            )
            linked.add((source, gateway))
            via += 1
    return BindCounts(added, via)


def add_residents(session: Session, units: dict[str, int], residents: list[Resident], key: PiiKey) -> int:
    """Record the residents of units that have none yet, encrypted; return how many were added."""
    housed = set(session.scalars(select(ResidentRow.unit_id).where(ResidentRow.unit_id.in_(list(units.values())))))
    added = 0
    for resident in residents:
        unit_id = units.get(resident.unit)
        if unit_id is None:
            raise SceneError(f"resident of {resident.unit}: no unit of the site has this address")
        if unit_id in housed:
            continue
        add_resident(session, key, unit_id, resident.name, phone=resident.phone, relation=resident.relation)
        added += 1
    return added


def units_by_address(session: Session, site_id: int, guids: dict[str, str]) -> dict[str, int]:
    """Return unit space ids by address: the space's own address, else the GlobalId the plan gave it."""
    out: dict[str, int] = {}
    rows = session.execute(
        select(SpaceRow.id, SpaceRow.address).where(SpaceRow.site_id == site_id, SpaceRow.address.is_not(None))
    )
    for space_id, address in rows:
        out[str(address)] = space_id
    for address, guid in guids.items():
        if address not in out:
            ident = session.get(IdentifierRow, ("ifc", guid))
            if ident is not None and ident.place_id is not None:
                out[address] = ident.place_id
    return out
