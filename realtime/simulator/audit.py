"""Read what the simulator published as the live ingest would: decode by profile, then bind.

A benchmark at 100,000 devices cannot load the scene into PostGIS first (the load takes longer
than the run), yet "every message reaches a bound device" must still be shown. ``twin scene load``
gives each bound device the identifier ``("mqtt", "<namespace>/<identity>")`` and
``realtime.bindings.load_bindings`` reads that back as the identity ``(namespace, identity)``;
the table here is that identity for every binding of the scene, without the database between.
The messages go through the ingest's own :class:`~realtime.decode.Decoder`; what is left unknown
or rejected is counted and sampled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from realtime.decode import Decoder, Identity
from realtime.message import ReceiveMessage
from realtime.simulator.coexist import OWN
from realtime.specs import Profile
from twin.scenes.model import Binding

SAMPLES = 5


def binding_table(bindings: Iterable[Binding], profiles: Iterable[Profile]) -> dict[Identity, str]:
    """Return the tag of the device each identity names once the scene is loaded.

    A binding whose profile is not among ``profiles`` names nothing: the load refuses it. Two
    bindings of one identity keep the first, as the load refuses the second.
    """
    namespaces = {p.name: p.namespace for p in profiles}
    table: dict[Identity, str] = {}
    for binding in bindings:
        namespace = namespaces.get(binding.profile)
        if namespace is not None:
            table.setdefault((namespace, binding.identity), binding.tag)
    return table


@dataclass
class Audit:
    """Counts of one pass over received messages: decoded, bound, unknown, rejected, devices heard."""

    decoder: Decoder
    table: dict[Identity, str]
    messages: int = 0
    readings: int = 0
    availability: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    unknown: Counter[Identity] = field(default_factory=Counter)
    heard: set[str] = field(default_factory=set)
    """Tags of the bound devices a reading named, or that carried one as its gateway or bridge.

    An availability message alone does not count: every Tasmota says Online on connecting.
    """
    samples: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, bindings: Iterable[Binding], profiles: list[Profile]) -> Audit:
        """Prepare an audit of a scene's bindings through its vendor profiles."""
        return cls(Decoder(profiles), binding_table(bindings, profiles))

    def add(self, topic: str, payload: bytes, received_at: float) -> None:
        """Decode one message and bind what it yields, counting every miss; the ingest never hears ``sim/``."""
        if topic.startswith(OWN):
            return
        self.messages += 1
        result = self.decoder.decode(ReceiveMessage(topic, payload, 0, False, received_at))
        for reject in result.rejects:
            self.rejects[reject.reason.value] += 1
            self._sample(f"reject {reject.reason.value} {reject.topic}: {reject.detail}")
        self.readings += len(result.readings)
        self.availability += len(result.availability)
        spoke = [r.identity for r in result.readings] + [r.via for r in result.readings if r.via is not None]
        for identity in spoke:
            tag = self._bound(identity, topic)
            if tag is not None:
                self.heard.add(tag)
        for item in result.availability:
            self._bound(item.identity, topic)

    def _bound(self, identity: Identity, topic: str) -> str | None:
        tag = self.table.get(identity)
        if tag is None:
            self.unknown[identity] += 1
            self._sample(f"unknown {identity} on {topic}")
        return tag

    def _sample(self, line: str) -> None:
        if len(self.samples) < SAMPLES:
            self.samples.append(line)

    @property
    def clean(self) -> bool:
        """Tell whether every message decoded into bound devices only."""
        return not self.rejects and not self.unknown

    def silent(self, bindings: Iterable[Binding]) -> list[str]:
        """Return the tags of the bound devices no message named, in tag order."""
        return sorted(b.tag for b in bindings if b.tag not in self.heard)
