"""What a loaded vendor profile is: topic patterns, where values are, and how they are written.

These are the validated, immutable shapes that ``realtime.profiles`` builds from a TOML file and
that ``realtime.decode`` follows for every message; nothing here reads files or checks input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum

from realtime.path import FieldPath
from realtime.topic import TopicPattern


class PayloadFormat(StrEnum):
    """How a payload is read: a JSON document, or a plain-text number or word."""

    JSON = "json"
    TEXT = "text"


class TimeFormat(StrEnum):
    """How a timestamp in the payload is written."""

    ISO8601 = "iso8601"
    EPOCH_S = "epoch_s"
    EPOCH_MS = "epoch_ms"
    AUTO = "auto"
    """Numbers above 1e11 are milliseconds, other numbers seconds, strings ISO 8601."""


TEMPLATE_NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A string built from topic captures, like ``{gateway}:{node}``."""

    text: str
    names: frozenset[str]

    def render(self, captures: dict[str, str]) -> str:
        """Fill in the captures (all present: checked when the profile was loaded)."""
        if len(self.names) == 1 and len(self.text) == len(next(iter(self.names))) + 2:
            return captures[next(iter(self.names))]  # the common "{device}": no substitution needed
        return TEMPLATE_NAME.sub(lambda m: captures[m.group(1)], self.text)


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """Where a message's timestamp is and how it is written."""

    path: FieldPath
    format: TimeFormat
    zone: tzinfo | None
    """The zone of timestamps written without one (many gateways send local time)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One reading taken from a message: which quantity, where its value and unit come from."""

    quantity: str | Template
    path: FieldPath | None
    capture: str | None
    """The topic level that carries the value; with neither path nor capture, the whole text."""
    unit: str | None
    unit_path: FieldPath | None
    scale: float
    invert: bool
    true_words: frozenset[str]
    false_words: frozenset[str]


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """A topic pattern whose messages carry readings."""

    pattern: TopicPattern
    format: PayloadFormat
    device: Template | None
    items: FieldPath | None
    """A list in the payload with one element per device (batch gateways)."""
    device_path: FieldPath | None
    via: Template | None
    time: TimeSpec | None
    fields: tuple[FieldSpec, ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class AvailabilitySpec:
    """A topic pattern whose messages say online or offline (heartbeats and last wills)."""

    pattern: TopicPattern
    format: PayloadFormat
    path: FieldPath | None
    device: Template
    online: frozenset[str]
    offline: frozenset[str]
    line: int | None


@dataclass(frozen=True, slots=True)
class Profile:
    """One vendor's topics and payloads; identities it produces live in ``namespace``."""

    name: str
    namespace: str
    source: str
    messages: tuple[MessageSpec, ...]
    availability: tuple[AvailabilitySpec, ...]

    def subscriptions(self) -> list[str]:
        """Return the MQTT filters that receive every topic of this profile."""
        specs: list[MessageSpec | AvailabilitySpec] = [*self.availability, *self.messages]
        return list(dict.fromkeys(spec.pattern.subscription() for spec in specs))


ONLINE_WORDS = frozenset({"online", "true", "1", "on", "connected", "alive", "在线"})
OFFLINE_WORDS = frozenset({"offline", "false", "0", "off", "disconnected", "dead", "离线"})
TRUE_WORDS = frozenset(
    {"true", "on", "1", "yes", "open", "opened", "detected", "alarm", "running", "开", "是", "有"}
)
FALSE_WORDS = frozenset(
    {"false", "off", "0", "no", "closed", "close", "clear", "normal", "stopped", "关", "否", "无"}
)
