"""The simulated devices: each bound device with its own seeded randomness and running state.

A device's random stream is seeded by the run's seed and its tag alone, so a device behaves the
same whichever other devices run beside it (a shard in another process, a smaller scene) and a
seed reproduces every value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from twin.catalogue import DeviceKind
from twin.scenes.model import Binding


@dataclass(slots=True)
class SimDevice:
    """A bound device as the simulator drives it."""

    tag: str
    kind: DeviceKind
    profile: str
    identity: str
    gateway: str | None
    """The tag of the gateway it reports through."""
    building: str | None
    floor: int | None
    space: str | None
    rng: random.Random
    state: dict[str, Any] = field(default_factory=dict)
    silent: bool = False
    """True while its gateway is offline or it was switched off by a scenario."""


def sim_devices(bindings: list[Binding], seed: int) -> list[SimDevice]:
    """Return the simulated devices of a scene's bindings, in tag order."""
    return [
        SimDevice(
            tag=b.tag,
            kind=b.kind,
            profile=b.profile,
            identity=b.identity,
            gateway=b.gateway,
            building=b.building,
            floor=b.floor,
            space=b.space,
            rng=random.Random(f"{seed}:{b.tag}"),
        )
        for b in sorted(bindings, key=lambda b: b.tag)
    ]
