"""What a generated community's plant supplies: pumps feed floors, the transformer feeds buildings.

The alarms read these ``feeds`` relations to know whom a fault touches (``households_of``: a floor
fed means every unit on it) and to group a storm under the device that caused it. They follow
from the plan by device kind, never by tag: the fire pumps pressurise the fire main of every
storey (the towers' hydrants and the garage's sprinklers, GB 50974), the domestic booster set (one
duty pump, one standby) supplies every tower floor, and the transformer every building. The load
makes them through the graph's own audited use case, as it makes the gateway links, and finds
them again on a second load.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.catalogue import DeviceKind, RelationKind
from twin.graph.devices import add_relation
from twin.scenes.bind import find_devices
from twin.scenes.model import SceneError
from twin.scenes.plan import Community
from twin.schemas import RelationCreate
from twin.store.models import IdentifierRow, RelationRow


@dataclass(frozen=True, slots=True)
class Feed:
    """A device (by tag) that supplies a place of the plan (by its IFC GlobalId)."""

    tag: str
    target: str
    """The GlobalId of the storey or building it supplies."""
    name: str
    """The plan's name of the target, for a message that names what is missing."""


def plan_feeds(community: Community) -> Iterator[Feed]:
    """Yield what every pump and transformer of the plan supplies."""
    towers = [b for b in community.buildings if b.use == "tower"]
    fire_main = [b for b in community.buildings if b.use in ("tower", "garage")]
    for device in community.devices:
        if device.kind is DeviceKind.FIRE_PUMP:
            places = [(s.key, f"{b.name} {s.name}") for b in fire_main for s in b.storeys]
        elif device.kind is DeviceKind.WATER_PUMP:
            places = [(s.key, f"{b.name} {s.name}") for b in towers for s in b.storeys]
        elif device.kind is DeviceKind.TRANSFORMER:
            places = [(b.key, b.name) for b in community.buildings]
        else:
            continue
        for key, name in places:
            yield Feed(device.tag, community.guid(key), name)


def store_feeds(session: Session, site_id: int, feeds: list[Feed]) -> int:
    """Add the ``feeds`` relations the site lacks; return how many were added (0 on a second load).

    What the store holds is read in three queries for the whole scene, as the bindings are.
    """
    if not feeds:
        return 0
    devices = find_devices(session, site_id, {f.tag for f in feeds}, ())
    guids = sorted({f.target for f in feeds})
    places = {
        str(value): place_id
        for value, place_id in session.execute(
            select(IdentifierRow.value, IdentifierRow.place_id).where(
                IdentifierRow.namespace == "ifc", IdentifierRow.value.in_(guids), IdentifierRow.place_id.is_not(None)
            )
        )
    }
    held = {
        (source, target)
        for source, target in session.execute(
            select(RelationRow.source_device_id, RelationRow.target_place_id).where(
                RelationRow.kind == RelationKind.FEEDS.value,
                RelationRow.source_device_id.in_(sorted(set(devices.values()))),
            )
        )
    }
    added = 0
    for feed in feeds:
        source, target = devices.get(feed.tag), places.get(feed.target)
        if source is None:
            raise SceneError(f"feeds: no device of the site has the tag {feed.tag}", "check the IFC's Tag")
        if target is None:
            raise SceneError(f"feeds: {feed.tag} supplies {feed.name}, which the site's model lacks")
        if (source, target) not in held:
            add_relation(
                session, RelationCreate(kind=RelationKind.FEEDS, source_device_id=source, target_place_id=target)
            )
            held.add((source, target))
            added += 1
    return added
