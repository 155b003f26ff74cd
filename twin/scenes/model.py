"""What a scene says, as frozen objects: the site, its inputs, bindings, rules, plans, the simulator.

A scene (``scenes/<name>/scene.toml``) is everything needed to bring one community to life with
one command. Paths in it are relative to the scene's folder and are resolved when it is read, so
the rest of the system never guesses where a file is. Alarm rules and inspection plans are kept
as data here; the load stores them where the rule engine and the inspection planner read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from twin.alarms.rules import Condition
from twin.alarms.severity import AlarmSeverity
from twin.catalogue import DeviceKind
from twin.errors import TwinError
from twin.operations.catalogue import Every

LayerKindName = Literal["footprints", "roads", "zones", "pois", "parcels"]


class SceneError(TwinError):
    """A scene file or one of its data files that cannot be used, naming the file, line and key."""


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """The community: its name, geodetic origin (WGS84, ellipsoidal height) and map CRS."""

    name: str
    latitude: float
    longitude: float
    height: float = 0.0
    crs: str = "EPSG:4326"
    """The projected CRS its surveys use (CGCS2000 Gauss–Krüger in China); the IFC maps into it."""


@dataclass(frozen=True, slots=True)
class GenerateSpec:
    """The community the generator writes on first use when the inputs are not there yet."""

    buildings: int
    floors: int
    units_per_floor: int
    seed: int = 1


@dataclass(frozen=True, slots=True)
class GisInput:
    """One GIS layer to import: the file, what it holds, and the layer's name in the site."""

    path: Path
    kind: LayerKindName | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """A device of the model (by tag) and how it speaks MQTT: a profile and its identity there.

    ``gateway`` is the tag of the gateway the device reaches the broker through, if any; the
    location columns let the simulator script a fire on one floor without reading the IFC.
    """

    tag: str
    kind: DeviceKind
    profile: str
    identity: str
    gateway: str | None = None
    building: str | None = None
    floor: int | None = None
    space: str | None = None


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """A simple rule on the devices of a kind, as scene.toml writes it (richer ones live in alarms.toml)."""

    name: str
    kind: DeviceKind
    quantity: str
    condition: Condition
    threshold: float | bool | str | None = None
    severity: AlarmSeverity = AlarmSeverity.WARNING
    for_s: int = 0


@dataclass(frozen=True, slots=True)
class InspectionPlan:
    """A recurring inspection of the devices of some kinds, e.g. the monthly fire equipment check."""

    name: str
    every: Every
    kinds: tuple[DeviceKind, ...]
    checklist: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """The simulator's vendor profiles (files or folders) and its default rate and seed."""

    profiles: tuple[Path, ...]
    rate: float | None = None
    """Messages per second in all; None publishes at the devices' own intervals."""
    seed: int = 1


@dataclass(frozen=True, slots=True)
class Scene:
    """A whole scene as read from its folder; every path is absolute."""

    root: Path
    site: SiteSpec
    generate: GenerateSpec | None
    ifc: tuple[Path, ...]
    gis: tuple[GisInput, ...]
    bindings_file: Path | None
    residents_file: Path | None
    billing_file: Path | None
    simulator: SimulatorSpec
    bindings: tuple[Binding, ...] = ()
    """Bindings written in scene.toml itself; those of ``bindings_file`` are read by :func:`read_bindings`."""
    alarm_rules: tuple[AlarmRule, ...] = ()
    inspection_plans: tuple[InspectionPlan, ...] = ()
    generated: Path = field(default=Path("generated"))
    """The folder the generator writes into (git-ignored)."""

    @property
    def name(self) -> str:
        """Return the scene's name: its folder's name."""
        return self.root.name

    def inputs(self) -> tuple[Path, ...]:
        """Return every input file the scene names."""
        files = [*self.ifc, *(g.path for g in self.gis)]
        files += [p for p in (self.bindings_file, self.residents_file, self.billing_file) if p is not None]
        return tuple(files)

    def missing(self) -> tuple[Path, ...]:
        """Return the input files that do not exist yet."""
        return tuple(p for p in self.inputs() if not p.is_file())
