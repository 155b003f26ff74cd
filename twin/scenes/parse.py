"""Read ``scene.toml`` into a :class:`Scene`, every mistake named by file, line and key.

The whole file is checked before anything is returned: unknown keys (a typo would silently do
nothing), wrong types, unknown device kinds, and paths that leave the scene are all refused with
the line to edit, e.g. ``scenes/demo/scene.toml:12: site.latitude: 131.2 is not a latitude``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from twin.alarms.rules import CONDITIONS
from twin.alarms.severity import AlarmSeverity
from twin.catalogue import DeviceKind
from twin.operations.catalogue import Every
from twin.scenes.model import (
    AlarmRule,
    Binding,
    GenerateSpec,
    GisInput,
    InspectionPlan,
    Scene,
    SceneError,
    SimulatorSpec,
    SiteSpec,
)
from twin.scenes.toml_lines import Key, LineIndex

SCENE_FILE = "scene.toml"
T = TypeVar("T")
_LAYER_KINDS = ("footprints", "roads", "zones", "pois", "parcels")
_CONDITIONS = CONDITIONS
_SEVERITIES = tuple(s.value for s in AlarmSeverity)
_EVERY = tuple(e.value for e in Every)


class _Reader:
    """Typed access to the parsed TOML that raises SceneError naming the line of the key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.index = LineIndex(text)

    def fail(self, key: Key, message: str) -> SceneError:
        dotted = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in key).replace(".[", "[")
        return SceneError(f"{self.path}:{self.index.line(key)}: {dotted}: {message}")

    def table(self, data: Mapping[str, Any], key: Key, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.fail((*key, unknown[0]), f"unknown key (known: {', '.join(allowed)})")
        return data

    def get(self, data: Mapping[str, Any], key: Key, kind: type[T] | tuple[type, ...], default: T | None = None) -> T:
        name = key[-1]
        assert isinstance(name, str)
        if name not in data:
            if default is None:
                raise self.fail(key, "is required")
            return default
        value = data[name]
        expected = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in expected:
            raise self.fail(key, f"{value!r} is not a {_names(expected)}")
        if float in expected and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected):
            raise self.fail(key, f"{value!r} is not a {_names(expected)}")
        return cast(T, value)

    def choice(self, data: Mapping[str, Any], key: Key, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(data, key, str, default)
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def kind(self, value: object, key: Key) -> DeviceKind:
        try:
            return DeviceKind(str(value))
        except ValueError:
            raise self.fail(key, f"unknown device kind {value!r} (see twin.catalogue.DeviceKind)") from None

    def path_in(self, root: Path, value: object, key: Key, *, inside: bool = True) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"{value!r} is not a path")
        path = (root / value).resolve()
        if inside and not path.is_relative_to(root.resolve()):
            raise self.fail(key, f"{value!r} leaves the scene's folder")
        return path

    def tables(self, data: Mapping[str, Any], key: str) -> list[tuple[int, Mapping[str, Any]]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail((key,), f"must be an array of tables ([[{key}]])")
        return list(enumerate(value))


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "string", int: "integer", float: "number", bool: "boolean", list: "list", dict: "table"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def scene_file(folder: Path) -> Path:
    """Return the scene file of a scene folder (or the file itself when given)."""
    return folder if folder.name == SCENE_FILE or folder.suffix == ".toml" else folder / SCENE_FILE


def load_scene(folder: Path | str) -> Scene:
    """Read and check the scene in ``folder``; raise SceneError naming the line of any mistake."""
    path = scene_file(Path(folder))
    if not path.is_file():
        raise SceneError(f"{path}: no such scene file", "a scene is a folder holding scene.toml")
    text = path.read_text(encoding="utf-8")
    reader = _Reader(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"{path}: not valid TOML: {exc}") from None
    root = path.parent.resolve()
    reader.table(data, (), ("site", "generate", "inputs", "binding", "alarm_rule", "inspection_plan", "simulator"))
    inputs = reader.table(
        _section(reader, data, "inputs"), ("inputs",), ("ifc", "gis", "bindings", "residents", "billing")
    )
    ifc = inputs.get("ifc", [])
    if not isinstance(ifc, list):
        raise reader.fail(("inputs", "ifc"), "must be a list of paths")

    def optional(key: str) -> Path | None:
        value = inputs.get(key)
        return None if value is None else reader.path_in(root, value, ("inputs", key))

    return Scene(
        root=root,
        site=_site(reader, _section(reader, data, "site", required=True)),
        generate=_generate(reader, data.get("generate")),
        ifc=tuple(reader.path_in(root, p, ("inputs", "ifc")) for p in ifc),
        gis=_gis(reader, root, inputs),
        bindings_file=optional("bindings"),
        residents_file=optional("residents"),
        billing_file=optional("billing"),
        simulator=_simulator(reader, root, _section(reader, data, "simulator")),
        bindings=tuple(_binding(reader, i, t) for i, t in reader.tables(data, "binding")),
        alarm_rules=tuple(_rule(reader, i, t) for i, t in reader.tables(data, "alarm_rule")),
        inspection_plans=tuple(_plan(reader, i, t) for i, t in reader.tables(data, "inspection_plan")),
        generated=root / "generated",
    )


def _section(reader: _Reader, data: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise reader.fail((key,), f"the [{key}] table is required")
        return {}
    if not isinstance(value, dict):
        raise reader.fail((key,), "must be a table")
    return value


def _site(reader: _Reader, data: Mapping[str, Any]) -> SiteSpec:
    reader.table(data, ("site",), ("name", "latitude", "longitude", "height", "crs"))
    latitude = reader.get(data, ("site", "latitude"), float)
    longitude = reader.get(data, ("site", "longitude"), float)
    if not -90 <= latitude <= 90:
        raise reader.fail(("site", "latitude"), f"{latitude} is not a latitude (−90…90; swapped with longitude?)")
    if not -180 <= longitude <= 180:
        raise reader.fail(("site", "longitude"), f"{longitude} is not a longitude (−180…180)")
    name = reader.get(data, ("site", "name"), str).strip()
    if not name:
        raise reader.fail(("site", "name"), "is empty")
    return SiteSpec(
        name=name,
        latitude=latitude,
        longitude=longitude,
        height=reader.get(data, ("site", "height"), float, 0.0),
        crs=reader.get(data, ("site", "crs"), str, "EPSG:4326"),
    )


def _generate(reader: _Reader, data: object) -> GenerateSpec | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise reader.fail(("generate",), "must be a table")
    reader.table(data, ("generate",), ("buildings", "floors", "units_per_floor", "seed"))
    limits = {"buildings": 200, "floors": 60, "units_per_floor": 16}
    values = {}
    for key, most in limits.items():
        value = reader.get(data, ("generate", key), int)
        if not 1 <= value <= most:
            raise reader.fail(("generate", key), f"{value} is outside 1…{most}")
        values[key] = value
    return GenerateSpec(**values, seed=reader.get(data, ("generate", "seed"), int, 1))


def _gis(reader: _Reader, root: Path, inputs: Mapping[str, Any]) -> tuple[GisInput, ...]:
    layers = []
    for index, item in reader.tables(inputs, "gis"):
        key: Key = ("inputs", "gis", index)
        reader.table(item, key, ("path", "kind", "name"))
        kind = reader.choice(item, (*key, "kind"), _LAYER_KINDS) if "kind" in item else None
        name = reader.get(item, (*key, "name"), str) if "name" in item else None
        layers.append(GisInput(reader.path_in(root, item.get("path"), (*key, "path")), kind, name))  # type: ignore[arg-type]
    return tuple(layers)


def _binding(reader: _Reader, index: int, data: Mapping[str, Any]) -> Binding:
    key: Key = ("binding", index)
    reader.table(data, key, ("tag", "kind", "profile", "identity", "gateway"))
    text: Callable[[str], str] = lambda name: reader.get(data, (*key, name), str)  # noqa: E731
    gateway = data.get("gateway")
    return Binding(
        tag=text("tag"),
        kind=reader.kind(text("kind"), (*key, "kind")),
        profile=text("profile"),
        identity=text("identity"),
        gateway=reader.get(data, (*key, "gateway"), str) if gateway is not None else None,
    )


def _rule(reader: _Reader, index: int, data: Mapping[str, Any]) -> AlarmRule:
    key: Key = ("alarm_rule", index)
    reader.table(data, key, ("name", "kind", "quantity", "condition", "threshold", "severity", "for_s"))
    threshold = data.get("threshold")
    if threshold is not None and not isinstance(threshold, int | float | bool | str):
        raise reader.fail((*key, "threshold"), f"{threshold!r} is not a number, boolean or word")
    return AlarmRule(
        name=reader.get(data, (*key, "name"), str),
        kind=reader.kind(reader.get(data, (*key, "kind"), str), (*key, "kind")),
        quantity=reader.get(data, (*key, "quantity"), str),
        condition=reader.choice(data, (*key, "condition"), _CONDITIONS),  # type: ignore[arg-type]
        threshold=threshold,
        severity=AlarmSeverity(reader.choice(data, (*key, "severity"), _SEVERITIES, "warning")),
        for_s=reader.get(data, (*key, "for_s"), int, 0),
    )


def _plan(reader: _Reader, index: int, data: Mapping[str, Any]) -> InspectionPlan:
    key: Key = ("inspection_plan", index)
    reader.table(data, key, ("name", "every", "kinds", "checklist"))
    kinds = reader.get(data, (*key, "kinds"), list)
    checklist = reader.get(data, (*key, "checklist"), list, [])
    if not all(isinstance(item, str) for item in checklist):
        raise reader.fail((*key, "checklist"), "must be a list of strings")
    return InspectionPlan(
        name=reader.get(data, (*key, "name"), str),
        every=Every(reader.choice(data, (*key, "every"), _EVERY)),
        kinds=tuple(reader.kind(k, (*key, "kinds")) for k in kinds),
        checklist=tuple(checklist),
    )


def _simulator(reader: _Reader, root: Path, data: Mapping[str, Any]) -> SimulatorSpec:
    reader.table(data, ("simulator",), ("profiles", "rate", "seed"))
    profiles = reader.get(data, ("simulator", "profiles"), list, ["../profiles"])
    rate = data.get("rate")
    if rate is not None:
        rate = reader.get(data, ("simulator", "rate"), float)
        if rate <= 0:
            raise reader.fail(("simulator", "rate"), f"{rate} is not a positive number of messages per second")
    # Profiles are shared between scenes (scenes/profiles), so they may live beside the scene.
    paths = tuple(reader.path_in(root, p, ("simulator", "profiles"), inside=False) for p in profiles)
    for path, raw in zip(paths, profiles, strict=True):
        if not path.exists():
            raise reader.fail(("simulator", "profiles"), f"{raw!r}: no such file or folder")
    return SimulatorSpec(profiles=paths, rate=rate, seed=reader.get(data, ("simulator", "seed"), int, 1))
