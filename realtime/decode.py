"""Turn received MQTT messages into readings, availability changes and rejects.

``Decoder.decode`` is the border between the outside world and the twin: whatever bytes arrive,
it returns a result and never raises, so one vendor's broken firmware cannot stop the ingest of
the others. Every rejected message keeps its reason and a sample for the operator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from realtime.counters import UNMATCHED, IngestCounters
from realtime.message import ReceiveMessage
from realtime.path import MISSING
from realtime.profiles import (
    AvailabilitySpec,
    FieldSpec,
    MessageSpec,
    PayloadFormat,
    Profile,
    Template,
    TimeFormat,
    TimeSpec,
)
from realtime.quantities import QUANTITIES, TEXT_LIMIT, UnitError, ValueKind

Identity = tuple[str, str]
"""(namespace, id): the profile's namespace and the device id it spells."""

MAX_PAYLOAD = 1 << 20
SAMPLE_BYTES = 512


class RejectReason(StrEnum):
    """Why a message, or one value in it, was not turned into a reading."""

    NO_PROFILE = "no_profile"
    TOO_LARGE = "too_large"
    INVALID_UTF8 = "invalid_utf8"
    MALFORMED_JSON = "malformed_json"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_QUANTITY = "unknown_quantity"
    UNKNOWN_WORD = "unknown_word"
    MISSING_IDENTITY = "missing_identity"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    OLD_TIMESTAMP = "old_timestamp"
    NO_READING = "no_reading"
    DECODER_ERROR = "decoder_error"
    """A bug in this module; the fuzz tests make sure it never happens."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one quantity of one device, in the quantity's canonical unit."""

    identity: Identity
    quantity: str
    value: float | bool | str
    unit: str
    time: datetime
    profile: str
    via: Identity | None = None
    """The gateway the reading came through, so its silence can mark the device unreachable."""


@dataclass(frozen=True, slots=True)
class Availability:
    """A device, gateway or bridge saying it went online or offline (a last will included)."""

    identity: Identity
    online: bool
    time: datetime
    profile: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A message or value that was not used, why, and the start of the payload."""

    profile: str | None
    topic: str
    reason: RejectReason
    detail: str
    sample: bytes


@dataclass(slots=True)
class DecodeResult:
    """Everything one message yielded."""

    readings: list[Reading] = field(default_factory=list)
    availability: list[Availability] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class _Bad(Exception):
    """A value or message that must be rejected; carries the reason to the caller."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


Spec = MessageSpec | AvailabilitySpec


class Decoder:
    """Decode messages for a set of profiles, counting what each profile received."""

    def __init__(self, profiles: Iterable[Profile], *, max_payload: int = MAX_PAYLOAD,
                 max_future: timedelta = timedelta(minutes=5), max_age: timedelta = timedelta(days=3650)) -> None:
        """Index the patterns by their first literal level, so a message is compared with few."""
        self.counters = IngestCounters()
        self.max_payload = max_payload
        self.max_future, self.max_age = max_future, max_age
        self._by_first: dict[str, list[tuple[Spec, Profile]]] = defaultdict(list)
        self._wild: list[tuple[Spec, Profile]] = []
        for profile in profiles:
            specs: list[Spec] = [*profile.availability, *profile.messages]
            for spec in specs:
                first = spec.pattern.first_literal
                (self._wild if first is None else self._by_first[first]).append((spec, profile))
        for bucket in (*self._by_first.values(), self._wild):
            # The most specific pattern wins: more literal levels first, an open '#' last.
            bucket.sort(key=lambda item: (-sum(lv is not None for lv in item[0].pattern.levels), item[0].pattern.tail))

    def match(self, topic: str) -> tuple[Spec, Profile, dict[str, str]] | None:
        """Return the spec and profile that claim ``topic``, with its captured levels."""
        levels = topic.split("/")
        for bucket in (self._by_first.get(levels[0], ()), self._wild):
            for spec, profile in bucket:
                captures = spec.pattern.match(levels)
                if captures is not None:
                    return spec, profile, captures
        return None

    def decode(self, msg: ReceiveMessage) -> DecodeResult:
        """Decode one message; never raises, whatever the payload."""
        result = DecodeResult()
        name: str | None = None
        try:
            found = self.match(msg.topic)
            if found is None:
                self.counters.of(UNMATCHED).received += 1
                self._reject(result, None, msg, RejectReason.NO_PROFILE, "no profile has a topic pattern matching it")
                return result
            spec, profile, captures = found
            name = profile.name
            self.counters.of(name).received += 1
            if len(msg.payload) > self.max_payload:
                raise _Bad(RejectReason.TOO_LARGE, f"payload of {len(msg.payload)} bytes exceeds {self.max_payload}")
            received = datetime.fromtimestamp(msg.received_at, UTC)
            if isinstance(spec, AvailabilitySpec):
                self._availability(spec, profile, captures, msg, received, result)
            else:
                self._message(spec, profile, captures, msg, received, result)
        except _Bad as bad:
            self._reject(result, name, msg, bad.reason, bad.detail)
        except Exception as exc:  # noqa: BLE001 - the border must hold; DECODER_ERROR makes the bug visible
            self._reject(result, name, msg, RejectReason.DECODER_ERROR, f"{type(exc).__name__}: {exc}")
        if name is not None:
            counters = self.counters.of(name)
            counters.readings += len(result.readings)
            counters.availability += len(result.availability)
        return result

    def _reject(self, result: DecodeResult, profile: str | None, msg: ReceiveMessage, reason: RejectReason,
                detail: str) -> None:
        result.rejects.append(Reject(profile, msg.topic, reason, detail, msg.payload[:SAMPLE_BYTES]))
        self.counters.of(profile or UNMATCHED).rejects[reason.value] += 1

    def _availability(self, spec: AvailabilitySpec, profile: Profile, captures: dict[str, str], msg: ReceiveMessage,
                      received: datetime, result: DecodeResult) -> None:
        value: Any = _text(msg.payload) if spec.format is PayloadFormat.TEXT else _json(msg.payload)
        if spec.path is not None:
            value = spec.path.get(value)
            if value is MISSING:
                raise _Bad(RejectReason.WRONG_TYPE, f"no {spec.path.text!r} in the availability payload")
        word = _word(value)
        if word in spec.online:
            online = True
        elif word in spec.offline:
            online = False
        else:
            raise _Bad(RejectReason.UNKNOWN_WORD, f"{str(value)[:40]!r} is neither an online nor an offline word")
        device = spec.device.render(captures)
        result.availability.append(Availability((profile.namespace, device), online, received, profile.name))

    def _message(self, spec: MessageSpec, profile: Profile, captures: dict[str, str], msg: ReceiveMessage,
                 received: datetime, result: DecodeResult) -> None:
        if spec.format is PayloadFormat.TEXT:
            root: Any = _text(msg.payload).strip()
        else:
            root = _json(msg.payload)
        via = (profile.namespace, spec.via.render(captures)) if spec.via is not None else None
        if spec.items is None:
            device = spec.device.render(captures) if spec.device is not None else ""
            self._item(spec, profile, captures, root, root, device, via, msg, received, result)
        else:
            items = spec.items.get(root)
            if not isinstance(items, list):
                raise _Bad(RejectReason.WRONG_TYPE, f"{spec.items.text!r} is not a list of readings")
            assert spec.device_path is not None
            for index, item in enumerate(items):
                ident = spec.device_path.get(item) if isinstance(item, dict) else MISSING
                if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
                    self._reject(result, profile.name, msg, RejectReason.MISSING_IDENTITY,
                                 f"element {index} of {spec.items.text!r} has no device id at {spec.device_path.text!r}")
                    continue
                prefix = spec.device.render(captures) if spec.device is not None else ""
                try:
                    self._item(spec, profile, captures, root, item, f"{prefix}{ident}", via, msg, received, result)
                except _Bad as bad:
                    self._reject(result, profile.name, msg, bad.reason, f"element {index}: {bad.detail}")
        if not result.readings and not result.rejects:
            raise _Bad(RejectReason.NO_READING, "none of the profile's readings is present in the payload")

    def _item(self, spec: MessageSpec, profile: Profile, captures: dict[str, str], root: Any, item: Any, device: str,
              via: Identity | None, msg: ReceiveMessage, received: datetime, result: DecodeResult) -> None:
        time = self._time(spec.time, root, item, received) if spec.time is not None else received
        identity = (profile.namespace, device)
        for fspec in spec.fields:
            if fspec.path is not None:
                raw = fspec.path.get(item)
            elif fspec.capture is not None:
                raw = captures[fspec.capture]
            else:
                raw = item
            if raw is MISSING or raw is None:
                continue
            try:
                quantity, value, unit = _value(fspec, raw, root, item, captures)
            except _Bad as bad:
                where = fspec.path.text if fspec.path is not None else (fspec.capture or "payload")
                self._reject(result, profile.name, msg, bad.reason, f"{where}: {bad.detail}")
                continue
            result.readings.append(Reading(identity, quantity, value, unit, time, profile.name, via))

    def _time(self, spec: TimeSpec, root: Any, item: Any, received: datetime) -> datetime:
        raw = spec.path.get(item)
        if raw is MISSING and item is not root:
            raw = spec.path.get(root)
        if raw is MISSING or raw is None:
            return received
        time = _timestamp(raw, spec)
        if time - received > self.max_future:
            raise _Bad(RejectReason.FUTURE_TIMESTAMP, f"timestamp {time.isoformat()} is ahead of the receipt time")
        if received - time > self.max_age:
            raise _Bad(RejectReason.OLD_TIMESTAMP, f"timestamp {time.isoformat()} is older than {self.max_age.days} days")
        return time


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad(RejectReason.INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}") from None


def _json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        _text(payload)
        raise _Bad(RejectReason.MALFORMED_JSON, f"malformed JSON: {exc}") from None


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip().casefold()
    raise _Bad(RejectReason.WRONG_TYPE, f"expected a word or number, got {type(value).__name__}")


def _value(fspec: FieldSpec, raw: Any, root: Any, item: Any,
           captures: dict[str, str]) -> tuple[str, float | bool | str, str]:
    name = fspec.quantity.render(captures) if isinstance(fspec.quantity, Template) else fspec.quantity
    quantity = QUANTITIES.get(name)
    if quantity is None:
        raise _Bad(RejectReason.UNKNOWN_QUANTITY, f"{name[:40]!r} is not a known quantity")
    if quantity.kind is ValueKind.BOOL:
        flag = _flag(raw, fspec)
        return name, flag != fspec.invert, quantity.unit
    if quantity.kind is ValueKind.TEXT:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise _Bad(RejectReason.WRONG_TYPE, f"expected text, got {type(raw).__name__}")
        text = str(raw)
        if len(text) > TEXT_LIMIT:
            raise _Bad(RejectReason.WRONG_TYPE, f"text of {len(text)} characters is longer than {TEXT_LIMIT}")
        return name, text, quantity.unit
    number = _number(raw) * fspec.scale
    unit = fspec.unit
    if fspec.unit_path is not None:
        found = fspec.unit_path.get(item)
        if found is MISSING and item is not root:
            found = fspec.unit_path.get(root)
        if isinstance(found, str):
            unit = found
        elif found is not MISSING:
            raise _Bad(RejectReason.WRONG_TYPE, f"unit at {fspec.unit_path.text!r} is not a string")
    if unit is not None and unit != quantity.unit:
        try:
            number = quantity.to_canonical(number, unit)
        except UnitError as exc:
            raise _Bad(RejectReason.UNKNOWN_UNIT, str(exc)) from None
    if not math.isfinite(number):
        raise _Bad(RejectReason.NOT_FINITE, f"{number} after conversion")
    if not quantity.low <= number <= quantity.high:
        raise _Bad(RejectReason.OUT_OF_RANGE,
                   f"{name} {number:g} {quantity.unit} is outside {quantity.low:g}..{quantity.high:g}")
    return name, number, quantity.unit


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _Bad(RejectReason.WRONG_TYPE, f"expected a number, got {raw!r}")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            raise _Bad(RejectReason.WRONG_TYPE, f"expected a number, got {raw[:40]!r}") from None
    else:
        raise _Bad(RejectReason.WRONG_TYPE, f"expected a number, got {type(raw).__name__}")
    if not math.isfinite(number):
        raise _Bad(RejectReason.NOT_FINITE, f"{raw!r} is not a finite number")
    return number


def _flag(raw: Any, fspec: FieldSpec) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().casefold()
        if word in fspec.true_words:
            return True
        if word in fspec.false_words:
            return False
        raise _Bad(RejectReason.UNKNOWN_WORD, f"{raw[:40]!r} is neither a yes nor a no word")
    raise _Bad(RejectReason.WRONG_TYPE, f"expected true/false or a word, got {type(raw).__name__} {str(raw)[:40]}")


def _timestamp(raw: Any, spec: TimeSpec) -> datetime:
    fmt = spec.format
    if isinstance(raw, bool):
        raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is not a time")
    if isinstance(raw, str) and fmt is not TimeFormat.ISO8601:
        try:
            raw = float(raw.strip())
        except ValueError:
            if fmt is not TimeFormat.AUTO:
                raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp {raw[:40]!r} is not a number") from None
    if isinstance(raw, str):
        try:
            time = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp {raw[:40]!r} is not ISO 8601") from None
        if time.tzinfo is None:
            if spec.zone is None:
                raise _Bad(RejectReason.BAD_TIMESTAMP,
                           f"timestamp {raw[:40]!r} has no time zone (set time_zone in the profile)")
            time = time.replace(tzinfo=spec.zone)
        return time.astimezone(UTC)
    if not isinstance(raw, int | float):
        raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp of type {type(raw).__name__}")
    if fmt is TimeFormat.ISO8601:
        raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is a number, the profile expects ISO 8601")
    seconds = float(raw) / 1000 if fmt is TimeFormat.EPOCH_MS or (fmt is TimeFormat.AUTO and raw > 1e11) else float(raw)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Bad(RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is out of any sensible range") from None
