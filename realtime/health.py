"""How alive each device looks: online, stale, offline, or unreachable behind an offline gateway.

Peers get this wrong for minutes in both directions: a battery sensor that reports hourly is
called offline after five minutes, and a pump controller that died is called online until
someone looks. Here silence is measured against the device's own expected interval (its
kind's, from the catalogue): silent for longer than 1.5 intervals it is *stale*, for longer than
3 it is *offline*. An availability message (a heartbeat or a last will) says it at once. A device
behind a gateway that is offline is *unreachable*, not offline: it may be fine, and the one thing
to repair is the gateway.

A gateway is heard in two ways: its own messages (availability, readings of its own), and every
message that came through it. A LoRa gateway rarely says anything for itself, it uploads what its
meters collected; the zigbee2mqtt bridge speaks through its devices' topics. Any of those is proof
that it is up, so its silence is judged from the last message it relayed, bound or not, and a
message it relayed after its last will (a stale retained *offline*) brings it back.

Time is passed in, never read here, so that the rules are tested without waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from realtime.bindings import Bound, expected_interval
from realtime.decode import Identity
from twin.catalogue import DeviceHealth, DeviceKind

STALE_AFTER = 1.5
OFFLINE_AFTER = 3.0
"""Silence, in expected intervals, after which a device is stale, then offline."""

GatewayKey = int | Identity
"""A gateway as a device id when it is bound, or as the identity it speaks with when it is not."""

Gateway = Bound | Identity
"""What a message names as the way it came: the bound gateway, or the identity of an unbound one."""

NO_CHANGE: Sequence[HealthChange] = ()


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
    reachable_since: datetime | None = None
    """When its gateway came back: the silence while nothing could be heard from it is not its own."""


@dataclass(slots=True)
class Voice:
    """What the tracker knows of an unbound gateway, known only by the identity its devices name."""

    last_seen: datetime | None = None
    said_offline: datetime | None = None


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
        self.voices: dict[Identity, Voice] = {}
        """Unbound gateways, judged with the gateway kind's interval."""
        self._voice_silence = timedelta(seconds=expected_interval(DeviceKind.GATEWAY.value, None) * offline_after)
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

    def seen(self, device: Bound, at: datetime, via: Gateway | None = None) -> Sequence[HealthChange]:
        """Record that a device spoke at ``at`` (receipt time), through the gateway ``via`` if it says so."""
        changes = self.relayed(via, at) if via is not None else NO_CHANGE
        node = self.nodes.get(device.device_id)
        if node is None:
            node = self.nodes[device.device_id] = Node(device, at)
        _heard(node, at)
        key = device.via if device.via is not None else _key(via)
        if key is not None and node.via != key:
            self._unlink(node)
            node.via = key
            self._link(node)
        if node.health is DeviceHealth.ONLINE:
            return changes
        change = self._decide(node, at)
        return changes if change is None else [*changes, change]

    def relayed(self, gateway: Gateway, at: datetime) -> Sequence[HealthChange]:
        """Record that a message came through a gateway at ``at``: it is up, whatever it said before."""
        if isinstance(gateway, Bound):
            node = self.nodes.get(gateway.device_id)
            if node is None:
                node = self.nodes[gateway.device_id] = Node(gateway, at, via=gateway.via)
                self._link(node)
            _heard(node, at)
            if node.health is DeviceHealth.ONLINE:
                return NO_CHANGE
            return self._recheck(gateway.device_id, self._decide(node, at), at)
        voice = self.voices.get(gateway)
        if voice is None:
            voice = self.voices[gateway] = Voice()
        was_down = self._voice_down_since(voice, at) is not None
        if voice.last_seen is None or at > voice.last_seen:
            voice.last_seen = at
        if voice.said_offline is not None and at > voice.said_offline:
            voice.said_offline = None
        return self._recheck(gateway, None, at) if was_down else NO_CHANGE

    def availability(self, target: Gateway, online: bool, at: datetime) -> list[HealthChange]:
        """Apply an availability message of a bound device, or of an unbound gateway by its identity."""
        if isinstance(target, Bound):
            node = self.nodes.get(target.device_id)
            if node is None:
                node = self.nodes[target.device_id] = Node(target, None, via=target.via)
                self._link(node)
            node.said_offline = None if online else at
            if online and (node.last_seen is None or at > node.last_seen):
                node.last_seen = at
            node.dirty = True
            return self._recheck(target.device_id, self._decide(node, at), at)
        voice = self.voices.get(target)
        if voice is None:
            voice = self.voices[target] = Voice()
        if online:
            voice.said_offline = None
            if voice.last_seen is None or at > voice.last_seen:
                voice.last_seen = at
        else:
            voice.said_offline = at
        return self._recheck(target, None, at)

    def tick(self, now: datetime) -> list[HealthChange]:
        """Re-decide every device from its silence; return the ones that changed, gateways first.

        A gateway's change comes before its devices', so that whoever groups the devices' alarms
        under the gateway's (``realtime.rules``) has heard of the gateway first.
        """
        gateways = [self.nodes[key] for key in self._children if isinstance(key, int) and key in self.nodes]
        changes = []
        for node in [*gateways, *(n for n in self.nodes.values() if n.device.device_id not in self._children)]:
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

    def _recheck(self, key: GatewayKey, own: HealthChange | None, at: datetime) -> list[HealthChange]:
        """Return a gateway's own change, if any, and those of the devices behind it."""
        changes = [] if own is None else [own]
        for child in sorted(self._children.get(key, ())):
            change = self._decide(self.nodes[child], at)
            if change is not None:
                changes.append(change)
        return changes

    def _offline_since(self, key: GatewayKey, now: datetime, depth: int) -> datetime | None:
        """Return since when a gateway is offline (None when it is not, or not known)."""
        if not isinstance(key, int):
            voice = self.voices.get(key)
            return self._voice_down_since(voice, now) if voice is not None else None
        node = self.nodes.get(key)
        if node is None or depth > 8:
            return None
        health = self._judge(node, now, depth + 1)
        if health not in (DeviceHealth.OFFLINE, DeviceHealth.UNREACHABLE):
            return None
        return node.said_offline or node.last_seen or now

    def _voice_down_since(self, voice: Voice, now: datetime) -> datetime | None:
        if voice.said_offline is not None:
            return voice.said_offline
        if voice.last_seen is not None and now - voice.last_seen > self._voice_silence:
            return voice.last_seen
        return None

    def _judge(self, node: Node, now: datetime, depth: int = 0) -> DeviceHealth:
        if node.via is not None:
            since = self._offline_since(node.via, now, depth)
            # A device heard after its gateway went quiet is evidently reachable some other way.
            if since is not None and (node.last_seen is None or node.last_seen <= since):
                return DeviceHealth.UNREACHABLE
        if node.said_offline is not None:
            return DeviceHealth.OFFLINE
        heard = node.last_seen
        if node.reachable_since is not None and (heard is None or node.reachable_since > heard):
            heard = node.reachable_since
        if heard is None:
            return DeviceHealth.UNKNOWN
        silence = now - heard
        interval = timedelta(seconds=node.device.interval_s)
        if silence > interval * self.offline_after:
            return DeviceHealth.OFFLINE
        if silence > interval * self.stale_after:
            return DeviceHealth.STALE
        return DeviceHealth.ONLINE

    def _decide(self, node: Node, now: datetime) -> HealthChange | None:
        health = self._judge(node, now)
        if node.health is DeviceHealth.UNREACHABLE and health is not DeviceHealth.UNREACHABLE:
            node.reachable_since = now  # its gateway is back: from now on its silence is its own
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


def _heard(node: Node, at: datetime) -> None:
    """Note a message from (or through) a device; one received before its last will does not undo it."""
    if node.last_seen is None or at > node.last_seen:
        node.last_seen = at
    if node.said_offline is not None and at > node.said_offline:
        node.said_offline = None
    node.dirty = True


def _key(gateway: Gateway | None) -> GatewayKey | None:
    return gateway.device_id if isinstance(gateway, Bound) else gateway


def _health(value: str) -> DeviceHealth:
    try:
        return DeviceHealth(value)
    except ValueError:
        return DeviceHealth.UNKNOWN
