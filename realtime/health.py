"""How alive each device looks: online, stale, offline, or unreachable behind an offline gateway.

Peers get this wrong for minutes in both directions: a battery sensor that reports hourly is
called offline after five minutes, and a pump controller that died is called online until
someone looks. Here silence is measured against the device's own expected interval (its
kind's, from the catalogue): silent for longer than 1.5 intervals it is *stale*, for longer than
3 it is *offline*. An availability message (a heartbeat or a last will) says it at once. A device
behind a gateway that is offline is *unreachable*, not offline: it may be fine, and the one thing
to repair is the gateway.

Time is passed in, never read here, so that the rules are tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from realtime.bindings import Bound
from realtime.decode import Identity
from twin.catalogue import DeviceHealth

STALE_AFTER = 1.5
OFFLINE_AFTER = 3.0
"""Silence, in expected intervals, after which a device is stale, then offline."""

GatewayKey = int | Identity
"""A gateway as a device id when it is bound, or as the identity it speaks with when it is not."""


@dataclass(slots=True)
class Node:
    """What the tracker knows of one device."""

    device: Bound
    last_seen: datetime | None
    said_offline: datetime | None = None
    """When the last availability message said offline, if nothing was heard from it since."""
    via: GatewayKey | None = None
    health: DeviceHealth = DeviceHealth.UNKNOWN
    dirty: bool = False
    """Changed since the last flush to ``devices.health``/``last_seen``."""


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A device whose health changed."""

    device: Bound
    previous: DeviceHealth
    health: DeviceHealth
    last_seen: datetime | None


class HealthTracker:
    """The health of every device that reported at least once, and of the gateways they use."""

    def __init__(self, stale_after: float = STALE_AFTER, offline_after: float = OFFLINE_AFTER) -> None:
        """Use the given silence thresholds, in expected intervals."""
        self.stale_after, self.offline_after = stale_after, offline_after
        self.nodes: dict[int, Node] = {}
        self._silent_identities: dict[Identity, datetime] = {}
        """Unbound gateways whose last availability message said offline, and since when."""
        self._children: dict[GatewayKey, set[int]] = {}

    def adopt(self, devices: dict[int, Bound], now: datetime) -> list[HealthChange]:
        """Take a fresh table of bound devices: keep what is known of each, forget the unbound."""
        for device_id in [d for d in self.nodes if d not in devices]:
            self._unlink(self.nodes.pop(device_id))
        for device in devices.values():
            node = self.nodes.get(device.device_id)
            if node is None:
                if device.last_seen is None:
                    continue  # never heard: nothing to decide until it speaks
                node = Node(device, device.last_seen, health=_health(device.health))
                self.nodes[device.device_id] = node
            else:
                self._unlink(node)
                node.device = device
                if device.last_seen is not None and (node.last_seen is None or device.last_seen > node.last_seen):
                    # Another instance of a shared subscription heard it: silence is judged from that.
                    node.last_seen = device.last_seen
            node.via = device.via if device.via is not None else node.via
            self._link(node)
        return self.tick(now)

    def seen(self, device: Bound, at: datetime, via: GatewayKey | None = None) -> HealthChange | None:
        """Record that a device spoke at ``at`` (receipt time), through ``via`` if it says so."""
        node = self.nodes.get(device.device_id)
        if node is None:
            node = self.nodes[device.device_id] = Node(device, at)
        elif node.last_seen is None or at > node.last_seen:
            node.last_seen = at
        node.said_offline = None
        node.dirty = True
        if device.via is None and via is not None and node.via != via:
            self._unlink(node)
            node.via = via
            self._link(node)
        elif device.via is not None and node.via != device.via:
            self._unlink(node)
            node.via = device.via
            self._link(node)
        if node.health is DeviceHealth.ONLINE:
            return None
        return self._decide(node, at)

    def availability(self, target: Bound | Identity, online: bool, at: datetime) -> list[HealthChange]:
        """Apply an availability message of a bound device, or of an unbound gateway by its identity."""
        changes: list[HealthChange] = []
        key: GatewayKey
        if isinstance(target, Bound):
            key = target.device_id
            node = self.nodes.get(key)
            if node is None:
                node = self.nodes[key] = Node(target, None)
                self._link(node)
            node.said_offline = None if online else at
            if online and (node.last_seen is None or at > node.last_seen):
                node.last_seen = at
            node.dirty = True
            change = self._decide(node, at)
            if change is not None:
                changes.append(change)
        else:
            key = target
            if online:
                self._silent_identities.pop(key, None)
            else:
                self._silent_identities[key] = at
        for child in sorted(self._children.get(key, ())):
            change = self._decide(self.nodes[child], at)
            if change is not None:
                changes.append(change)
        return changes

    def tick(self, now: datetime) -> list[HealthChange]:
        """Re-decide every device from its silence; return the ones that changed."""
        changes = []
        for node in list(self.nodes.values()):
            change = self._decide(node, now)
            if change is not None:
                changes.append(change)
        return changes

    def take_dirty(self) -> list[Node]:
        """Return the devices whose health or last-seen time changed since the last call."""
        dirty = [node for node in self.nodes.values() if node.dirty]
        for node in dirty:
            node.dirty = False
        return dirty

    def _offline_since(self, key: GatewayKey, now: datetime, depth: int) -> datetime | None:
        """Return since when a gateway is offline (None when it is not, or not known)."""
        if not isinstance(key, int):
            return self._silent_identities.get(key)
        node = self.nodes.get(key)
        if node is None or depth > 8:
            return None
        health = self._judge(node, now, depth + 1)
        if health not in (DeviceHealth.OFFLINE, DeviceHealth.UNREACHABLE):
            return None
        return node.said_offline or node.last_seen or now

    def _judge(self, node: Node, now: datetime, depth: int = 0) -> DeviceHealth:
        if node.via is not None:
            since = self._offline_since(node.via, now, depth)
            # A device heard after its gateway went quiet is evidently reachable some other way.
            if since is not None and (node.last_seen is None or node.last_seen <= since):
                return DeviceHealth.UNREACHABLE
        if node.said_offline is not None:
            return DeviceHealth.OFFLINE
        if node.last_seen is None:
            return DeviceHealth.UNKNOWN
        silence = now - node.last_seen
        interval = timedelta(seconds=node.device.interval_s)
        if silence > interval * self.offline_after:
            return DeviceHealth.OFFLINE
        if silence > interval * self.stale_after:
            return DeviceHealth.STALE
        return DeviceHealth.ONLINE

    def _decide(self, node: Node, now: datetime) -> HealthChange | None:
        health = self._judge(node, now)
        if health is node.health:
            return None
        previous, node.health, node.dirty = node.health, health, True
        return HealthChange(node.device, previous, health, node.last_seen)

    def _link(self, node: Node) -> None:
        if node.via is not None:
            self._children.setdefault(node.via, set()).add(node.device.device_id)

    def _unlink(self, node: Node) -> None:
        if node.via is not None:
            children = self._children.get(node.via)
            if children is not None:
                children.discard(node.device.device_id)
                if not children:
                    del self._children[node.via]


def _health(value: str) -> DeviceHealth:
    try:
        return DeviceHealth(value)
    except ValueError:
        return DeviceHealth.UNKNOWN
