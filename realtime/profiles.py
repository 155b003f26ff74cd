"""Vendor profiles: declarative TOML files that map topics and payloads to readings.

Why TOML: it is in the standard library (tomllib), it has comments, and it has no implicit
typing — YAML 1.1 reads the unquoted words ``ON``, ``OFF``, ``yes`` and ``no`` as booleans,
which are exactly the words that device payloads use, and ``0755``-style values as octal.
A profile is validated completely when it is loaded; every error names the file and the line.
The format is documented in ``docs/profiles.md``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from realtime.path import FieldPath, PathError
from realtime.quantities import QUANTITIES, ValueKind
from realtime.source_map import Key, SourceMap
from realtime.specs import (
    FALSE_WORDS,
    OFFLINE_WORDS,
    ONLINE_WORDS,
    TEMPLATE_NAME,
    TRUE_WORDS,
    AvailabilitySpec,
    FieldSpec,
    MessageSpec,
    PayloadFormat,
    Profile,
    Template,
    TimeFormat,
    TimeSpec,
)
from realtime.topic import PatternError, TopicPattern


class ProfileError(ValueError):
    """A profile that cannot be used, with the file and line where the problem is."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        """Keep the parts apart so that callers can show or test them separately."""
        self.source, self.line, self.message = source, line, message
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")


E = TypeVar("E", bound=StrEnum)

_PROFILE_KEYS = {"name", "namespace", "description"}
_AVAILABILITY_KEYS = {"topic", "format", "path", "device", "online", "offline"}
_MESSAGE_KEYS = {
    "topic",
    "format",
    "device",
    "items",
    "device_path",
    "via",
    "time",
    "time_format",
    "time_zone",
    "reading",
}
_READING_KEYS = {"quantity", "path", "topic", "unit", "unit_path", "scale", "invert", "true", "false"}


class _Checker:
    """Reads one parsed document, raising ProfileError at the line of the first problem."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.map = SourceMap(text)

    def fail(self, key: Key, message: str) -> ProfileError:
        return ProfileError(self.source, self.map.line(key), message)

    def table(self, value: Any, key: Key, allowed: set[str], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"{what} must be a table")
        for name in value:
            if name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1)
                suggestion = (
                    f" (did you mean {hint[0]!r}?)"
                    if hint
                    else f"; expected one of {', '.join(sorted(allowed))}"
                )
                raise self.fail((*key, name), f"unknown key {name!r} in {what}{suggestion}")
        return value

    def string(self, table: dict[str, Any], key: Key, name: str, *, required: bool = False) -> str | None:
        value = table.get(name)
        if value is None:
            if required:
                raise self.fail(key, f"missing key {name!r}")
            return None
        if not isinstance(value, str) or not value:
            raise self.fail((*key, name), f"{name!r} must be a non-empty string, not {value!r}")
        return value

    def words(self, table: dict[str, Any], key: Key, name: str, default: frozenset[str]) -> frozenset[str]:
        value = table.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(
            isinstance(w, str | int) and not isinstance(w, bool) for w in value
        ):
            raise self.fail((*key, name), f'{name!r} must be a list of words (strings), like ["ON", "开"]')
        return frozenset(str(w).strip().casefold() for w in value)

    def choice(self, table: dict[str, Any], key: Key, name: str, enum: type[E], default: E) -> E:
        value = table.get(name, default.value)
        try:
            return enum(value)
        except ValueError:
            raise self.fail(
                (*key, name), f"{name!r} must be one of {', '.join(e.value for e in enum)}, not {value!r}"
            ) from None

    def path(self, table: dict[str, Any], key: Key, name: str) -> FieldPath | None:
        text = self.string(table, key, name)
        if text is None:
            return None
        try:
            return FieldPath.parse(text)
        except PathError as exc:
            raise self.fail((*key, name), f"{name!r}: {exc}") from None

    def pattern(self, table: dict[str, Any], key: Key) -> TopicPattern:
        text = self.string(table, key, "topic", required=True)
        assert text is not None
        try:
            return TopicPattern.parse(text)
        except PatternError as exc:
            raise self.fail((*key, "topic"), str(exc)) from None

    def template(self, table: dict[str, Any], key: Key, name: str, pattern: TopicPattern) -> Template | None:
        text = self.string(table, key, name)
        if text is None:
            return None
        names = frozenset(TEMPLATE_NAME.findall(text))
        missing = names - pattern.names()
        if missing:
            raise self.fail(
                (*key, name),
                f"{name!r} uses {{{sorted(missing)[0]}}}, which the topic {pattern.text!r} does not capture",
            )
        return Template(text, names)

    def availability(self, value: Any, key: Key) -> AvailabilitySpec:
        table = self.table(value, key, _AVAILABILITY_KEYS, "[[availability]]")
        pattern = self.pattern(table, key)
        fmt = self.choice(table, key, "format", PayloadFormat, PayloadFormat.TEXT)
        path = self.path(table, key, "path")
        if fmt is PayloadFormat.TEXT and path is not None:
            raise self.fail((*key, "path"), "'path' needs format = \"json\"; a text payload is one word")
        device = self.template(table, key, "device", pattern) or self._default_device(pattern, key)
        return AvailabilitySpec(
            pattern,
            fmt,
            path,
            device,
            self.words(table, key, "online", ONLINE_WORDS),
            self.words(table, key, "offline", OFFLINE_WORDS),
            self.map.line(key),
        )

    def _default_device(self, pattern: TopicPattern, key: Key) -> Template:
        if "device" not in pattern.names():
            raise self.fail(
                (*key, "topic"),
                f"the topic {pattern.text!r} has no {{device}} wildcard; "
                "capture one or say how to name the device with 'device'",
            )
        return Template("{device}", frozenset({"device"}))

    def message(self, value: Any, key: Key) -> MessageSpec:
        table = self.table(value, key, _MESSAGE_KEYS, "[[message]]")
        pattern = self.pattern(table, key)
        fmt = self.choice(table, key, "format", PayloadFormat, PayloadFormat.JSON)
        items = self.path(table, key, "items")
        device_path = self.path(table, key, "device_path")
        device = self.template(table, key, "device", pattern)
        if items is not None and device_path is None:
            raise self.fail(
                (*key, "items"), "'items' needs 'device_path': the key in each element that names the device"
            )
        if device_path is not None and items is None:
            raise self.fail(
                (*key, "device_path"),
                "'device_path' is only read inside 'items'; name the device with 'device'",
            )
        if fmt is PayloadFormat.TEXT and (items or table.get("time")):
            raise self.fail(key, "a text payload has no 'items' or 'time'; use format = \"json\"")
        if items is None and device is None:
            device = self._default_device(pattern, key)
        time = self.time(table, key)
        readings = table.get("reading")
        if not isinstance(readings, list) or not readings:
            raise self.fail(key, "a [[message]] needs at least one [[message.reading]]")
        fields = tuple(self.field(r, (*key, "reading", i), pattern, fmt) for i, r in enumerate(readings))
        return MessageSpec(
            pattern,
            fmt,
            device,
            items,
            device_path,
            self.template(table, key, "via", pattern),
            time,
            fields,
            self.map.line(key),
        )

    def time(self, table: dict[str, Any], key: Key) -> TimeSpec | None:
        path = self.path(table, key, "time")
        fmt = self.choice(table, key, "time_format", TimeFormat, TimeFormat.AUTO)
        zone_name = self.string(table, key, "time_zone")
        zone = None
        if zone_name is not None:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(
                    (*key, "time_zone"),
                    f'unknown time zone {zone_name!r}; use an IANA name like "Asia/Shanghai"',
                ) from None
        if path is None:
            if "time_format" in table or zone is not None:
                raise self.fail(key, "'time_format' and 'time_zone' need 'time', the path of the timestamp")
            return None
        return TimeSpec(path, fmt, zone)

    def field(self, value: Any, key: Key, pattern: TopicPattern, fmt: PayloadFormat) -> FieldSpec:
        table = self.table(value, key, _READING_KEYS, "[[message.reading]]")
        quantity = self.quantity(table, key, pattern)
        path = self.path(table, key, "path")
        capture = self.string(table, key, "topic")
        if capture is not None:
            capture = capture.strip("{}")
            if capture not in pattern.names():
                raise self.fail(
                    (*key, "topic"), f"'topic' names {{{capture}}}, which {pattern.text!r} does not capture"
                )
        if path is not None and capture is not None:
            raise self.fail((*key, "path"), "a reading takes its value from 'path' or from 'topic', not both")
        if fmt is PayloadFormat.JSON and path is None and capture is None:
            raise self.fail(key, "a reading of a JSON message needs 'path' (where the value is) or 'topic'")
        if fmt is PayloadFormat.TEXT and path is not None:
            raise self.fail(
                (*key, "path"), "'path' needs format = \"json\"; a text payload is the value itself"
            )
        unit = table.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise self.fail((*key, "unit"), f"'unit' must be a string, not {unit!r}")
        if isinstance(quantity, str) and unit is not None and not QUANTITIES[quantity].accepts(unit):
            q = QUANTITIES[quantity]
            raise self.fail(
                (*key, "unit"),
                f"{quantity} cannot be converted from {unit!r}; it is kept in {q.unit!r} "
                f"and converted from {', '.join(q.conversions) or 'no other unit'}",
            )
        scale = table.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale == 0:
            raise self.fail((*key, "scale"), f"'scale' must be a non-zero number, not {scale!r}")
        invert = table.get("invert", False)
        if not isinstance(invert, bool):
            raise self.fail((*key, "invert"), f"'invert' must be true or false, not {invert!r}")
        if invert and isinstance(quantity, str) and QUANTITIES[quantity].kind is not ValueKind.BOOL:
            raise self.fail(
                (*key, "invert"),
                f"'invert' only applies to yes/no quantities; {quantity} is a {QUANTITIES[quantity].kind}",
            )
        return FieldSpec(
            quantity,
            path,
            capture,
            unit,
            self.path(table, key, "unit_path"),
            float(scale),
            invert,
            self.words(table, key, "true", TRUE_WORDS),
            self.words(table, key, "false", FALSE_WORDS),
        )

    def quantity(self, table: dict[str, Any], key: Key, pattern: TopicPattern) -> str | Template:
        name = self.string(table, key, "quantity", required=True)
        assert name is not None
        if TEMPLATE_NAME.fullmatch(name):
            template = self.template(table, key, "quantity", pattern)
            assert template is not None
            return template
        if name not in QUANTITIES:
            hint = difflib.get_close_matches(name, QUANTITIES, n=1)
            suggestion = f"did you mean {hint[0]!r}?" if hint else "see realtime/quantities.py for the list"
            raise self.fail((*key, "quantity"), f"unknown quantity {name!r}; {suggestion}")
        return name


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Parse and validate one profile; raise ProfileError naming ``source`` and the line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ProfileError(source, int(match.group(1)) if match else None, f"not valid TOML: {exc}") from None
    check = _Checker(source, text)
    check.table(document, (), {"profile", "availability", "message"}, "the profile file")
    head = (
        check.table(document.get("profile"), ("profile",), _PROFILE_KEYS, "[profile]")
        if "profile" in document
        else None
    )
    if head is None:
        raise ProfileError(source, 1, 'missing the [profile] table with at least name = "..."')
    name = check.string(head, ("profile",), "name", required=True)
    assert name is not None
    namespace = check.string(head, ("profile",), "namespace") or name
    availability = tuple(
        check.availability(v, ("availability", i))
        for i, v in enumerate(_array(document, "availability", check))
    )
    messages = tuple(
        check.message(v, ("message", i)) for i, v in enumerate(_array(document, "message", check))
    )
    if not messages and not availability:
        raise ProfileError(
            source, check.map.line(("profile",)), "the profile has no [[message]] and no [[availability]]"
        )
    return Profile(name, namespace, source, messages, availability)


def _array(document: dict[str, Any], name: str, check: _Checker) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise check.fail((name,), f"{name!r} must be an array of tables, written [[{name}]]")
    return value


def load_profile(path: Path) -> Profile:
    """Read and validate one profile file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), None, f"cannot read the profile: {exc}") from None
    return parse_profile(text, str(path))


def load_profiles(paths: Iterable[Path]) -> list[Profile]:
    """Load profile files, and every ``*.toml`` of given directories; names must be unique."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    profiles: list[Profile] = []
    seen: dict[str, str] = {}
    for file in files:
        profile = load_profile(file)
        if profile.name in seen:
            raise ProfileError(
                str(file), None, f"profile name {profile.name!r} is already used by {seen[profile.name]}"
            )
        seen[profile.name] = str(file)
        profiles.append(profile)
    return profiles
