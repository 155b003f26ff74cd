"""Turn received MQTT messages into readings, availability changes and rejects.

``Decoder.decode`` is the border between the outside world and the twin: whatever bytes arrive,
it returns a result and never raises, so one vendor's broken firmware cannot stop the ingest of
the others. Every rejected message keeps its reason and a sample for the operator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from realtime.counters import UNMATCHED, IngestCounters
from realtime.message import ReceiveMessage
from realtime.path import MISSING
from realtime.specs import AvailabilitySpec, MessageSpec, PayloadFormat, Profile, TimeSpec
from realtime.values import (
    Invalid,
    RejectReason,
    payload_json,
    payload_text,
    reading_value,
    state_word,
    to_timestamp,
)

Identity = tuple[str, str]
"""(namespace, id): the profile's namespace and the device id it spells."""

MAX_PAYLOAD = 1 << 20
SAMPLE_BYTES = 512


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


Spec = MessageSpec | AvailabilitySpec


class Decoder:
    """Decode messages for a set of profiles, counting what each profile received."""

    def __init__(
        self,
        profiles: Iterable[Profile],
        *,
        max_payload: int = MAX_PAYLOAD,
        max_future: timedelta = timedelta(minutes=5),
        max_age: timedelta = timedelta(days=3650),
    ) -> None:
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
            bucket.sort(
                key=lambda item: (-sum(lv is not None for lv in item[0].pattern.levels), item[0].pattern.tail)
            )

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
                self._reject(
                    result, None, msg, RejectReason.NO_PROFILE, "no profile has a topic pattern matching it"
                )
                return result
            spec, profile, captures = found
            name = profile.name
            self.counters.of(name).received += 1
            if len(msg.payload) > self.max_payload:
                raise Invalid(
                    RejectReason.TOO_LARGE, f"payload of {len(msg.payload)} bytes exceeds {self.max_payload}"
                )
            received = datetime.fromtimestamp(msg.received_at, UTC)
            if isinstance(spec, AvailabilitySpec):
                self._availability(spec, profile, captures, msg, received, result)
            else:
                self._message(spec, profile, captures, msg, received, result)
        except Invalid as bad:
            self._reject(result, name, msg, bad.reason, bad.detail)
        except Exception as exc:  # noqa: BLE001 - the border must hold; DECODER_ERROR makes the bug visible
            self._reject(result, name, msg, RejectReason.DECODER_ERROR, f"{type(exc).__name__}: {exc}")
        if name is not None:
            counters = self.counters.of(name)
            counters.readings += len(result.readings)
            counters.availability += len(result.availability)
        return result

    def _reject(
        self,
        result: DecodeResult,
        profile: str | None,
        msg: ReceiveMessage,
        reason: RejectReason,
        detail: str,
    ) -> None:
        result.rejects.append(Reject(profile, msg.topic, reason, detail, msg.payload[:SAMPLE_BYTES]))
        self.counters.of(profile or UNMATCHED).rejects[reason.value] += 1

    def _availability(
        self,
        spec: AvailabilitySpec,
        profile: Profile,
        captures: dict[str, str],
        msg: ReceiveMessage,
        received: datetime,
        result: DecodeResult,
    ) -> None:
        value: Any = (
            payload_text(msg.payload) if spec.format is PayloadFormat.TEXT else payload_json(msg.payload)
        )
        if spec.path is not None:
            value = spec.path.get(value)
            if value is MISSING:
                raise Invalid(RejectReason.WRONG_TYPE, f"no {spec.path.text!r} in the availability payload")
        word = state_word(value)
        if word in spec.online:
            online = True
        elif word in spec.offline:
            online = False
        else:
            raise Invalid(
                RejectReason.UNKNOWN_WORD, f"{str(value)[:40]!r} is neither an online nor an offline word"
            )
        device = spec.device.render(captures)
        result.availability.append(Availability((profile.namespace, device), online, received, profile.name))

    def _message(
        self,
        spec: MessageSpec,
        profile: Profile,
        captures: dict[str, str],
        msg: ReceiveMessage,
        received: datetime,
        result: DecodeResult,
    ) -> None:
        if spec.format is PayloadFormat.TEXT:
            root: Any = payload_text(msg.payload).strip()
        else:
            root = payload_json(msg.payload)
        via = (profile.namespace, spec.via.render(captures)) if spec.via is not None else None
        if spec.items is None:
            device = spec.device.render(captures) if spec.device is not None else ""
            self._item(spec, profile, captures, root, root, device, via, msg, received, result)
        else:
            items = spec.items.get(root)
            if not isinstance(items, list):
                raise Invalid(RejectReason.WRONG_TYPE, f"{spec.items.text!r} is not a list of readings")
            assert spec.device_path is not None
            for index, item in enumerate(items):
                ident = spec.device_path.get(item) if isinstance(item, dict) else MISSING
                if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
                    self._reject(
                        result,
                        profile.name,
                        msg,
                        RejectReason.MISSING_IDENTITY,
                        f"element {index} of {spec.items.text!r} has no device id"
                        f" at {spec.device_path.text!r}",
                    )
                    continue
                prefix = spec.device.render(captures) if spec.device is not None else ""
                try:
                    self._item(
                        spec, profile, captures, root, item, f"{prefix}{ident}", via, msg, received, result
                    )
                except Invalid as bad:
                    self._reject(result, profile.name, msg, bad.reason, f"element {index}: {bad.detail}")
        if not result.readings and not result.rejects:
            raise Invalid(RejectReason.NO_READING, "none of the profile's readings is present in the payload")

    def _item(
        self,
        spec: MessageSpec,
        profile: Profile,
        captures: dict[str, str],
        root: Any,
        item: Any,
        device: str,
        via: Identity | None,
        msg: ReceiveMessage,
        received: datetime,
        result: DecodeResult,
    ) -> None:
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
                quantity, value, unit = reading_value(fspec, raw, root, item, captures)
            except Invalid as bad:
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
        time = to_timestamp(raw, spec)
        if time - received > self.max_future:
            raise Invalid(
                RejectReason.FUTURE_TIMESTAMP, f"timestamp {time.isoformat()} is ahead of the receipt time"
            )
        if received - time > self.max_age:
            raise Invalid(
                RejectReason.OLD_TIMESTAMP,
                f"timestamp {time.isoformat()} is older than {self.max_age.days} days",
            )
        return time
