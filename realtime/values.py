"""Turning raw payload values into typed readings: numbers, yes/no words, text and timestamps.

Each function either returns a clean value or raises ``Invalid`` with the reason a reject will
carry, so the decoder stays a plain walk over the profile and every refusal is worded once.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from realtime.path import MISSING
from realtime.quantities import QUANTITIES, TEXT_LIMIT, UnitError, ValueKind
from realtime.specs import FieldSpec, Template, TimeFormat, TimeSpec


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
    """A bug in the decoder; the fuzz tests make sure it never happens."""


class Invalid(Exception):
    """A value or message that must be rejected, with the reason for the reject."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def payload_text(payload: bytes) -> str:
    """Return the payload as text; invalid UTF-8 is a reject of its own, not a malformed document."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(RejectReason.INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}") from None


def payload_json(payload: bytes) -> Any:
    """Parse JSON, telling invalid UTF-8 apart from bad syntax only on the slow path."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        payload_text(payload)
        raise Invalid(RejectReason.MALFORMED_JSON, f"malformed JSON: {exc}") from None


def state_word(value: Any) -> str:
    """Fold a JSON value to the word compared with online/offline vocabularies."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip().casefold()
    raise Invalid(RejectReason.WRONG_TYPE, f"expected a word or number, got {type(value).__name__}")


def reading_value(
    fspec: FieldSpec, raw: Any, root: Any, item: Any, captures: dict[str, str]
) -> tuple[str, float | bool | str, str]:
    """Return (quantity, value, canonical unit), the quantity maybe named by the topic."""
    name = fspec.quantity.render(captures) if isinstance(fspec.quantity, Template) else fspec.quantity
    quantity = QUANTITIES.get(name)
    if quantity is None:
        raise Invalid(RejectReason.UNKNOWN_QUANTITY, f"{name[:40]!r} is not a known quantity")
    if quantity.kind is ValueKind.BOOL:
        flag = to_flag(raw, fspec)
        return name, flag != fspec.invert, quantity.unit
    if quantity.kind is ValueKind.TEXT:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise Invalid(RejectReason.WRONG_TYPE, f"expected text, got {type(raw).__name__}")
        text = str(raw)
        if len(text) > TEXT_LIMIT:
            raise Invalid(
                RejectReason.WRONG_TYPE, f"text of {len(text)} characters is longer than {TEXT_LIMIT}"
            )
        return name, text, quantity.unit
    number = to_number(raw) * fspec.scale
    unit = fspec.unit
    if fspec.unit_path is not None:
        found = fspec.unit_path.get(item)
        if found is MISSING and item is not root:
            found = fspec.unit_path.get(root)
        if isinstance(found, str):
            unit = found
        elif found is not MISSING:
            raise Invalid(RejectReason.WRONG_TYPE, f"unit at {fspec.unit_path.text!r} is not a string")
    if unit is not None and unit != quantity.unit:
        try:
            number = quantity.to_canonical(number, unit)
        except UnitError as exc:
            raise Invalid(RejectReason.UNKNOWN_UNIT, str(exc)) from None
    if not math.isfinite(number):
        raise Invalid(RejectReason.NOT_FINITE, f"{number} after conversion")
    if not quantity.low <= number <= quantity.high:
        raise Invalid(
            RejectReason.OUT_OF_RANGE,
            f"{name} {number:g} {quantity.unit} is outside {quantity.low:g}..{quantity.high:g}",
        )
    return name, number, quantity.unit


def to_number(raw: Any) -> float:
    """Accept numbers and numeric strings (many gateways quote them); refuse NaN and infinities."""
    if isinstance(raw, bool):
        raise Invalid(RejectReason.WRONG_TYPE, f"expected a number, got {raw!r}")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            raise Invalid(RejectReason.WRONG_TYPE, f"expected a number, got {raw[:40]!r}") from None
    else:
        raise Invalid(RejectReason.WRONG_TYPE, f"expected a number, got {type(raw).__name__}")
    if not math.isfinite(number):
        raise Invalid(RejectReason.NOT_FINITE, f"{raw!r} is not a finite number")
    return number


def to_flag(raw: Any, fspec: FieldSpec) -> bool:
    """Accept booleans, 0/1 and the profile's yes/no words; anything else is not a state."""
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
        raise Invalid(RejectReason.UNKNOWN_WORD, f"{raw[:40]!r} is neither a yes nor a no word")
    raise Invalid(
        RejectReason.WRONG_TYPE, f"expected true/false or a word, got {type(raw).__name__} {str(raw)[:40]}"
    )


def to_timestamp(raw: Any, spec: TimeSpec) -> datetime:
    """Read a timestamp in the profile's format; a time without a zone needs the profile's zone."""
    fmt = spec.format
    if isinstance(raw, bool):
        raise Invalid(RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is not a time")
    if isinstance(raw, str) and fmt is not TimeFormat.ISO8601:
        try:
            raw = float(raw.strip())
        except ValueError:
            if fmt is not TimeFormat.AUTO:
                raise Invalid(RejectReason.BAD_TIMESTAMP, f"timestamp {raw[:40]!r} is not a number") from None
    if isinstance(raw, str):
        try:
            time = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise Invalid(RejectReason.BAD_TIMESTAMP, f"timestamp {raw[:40]!r} is not ISO 8601") from None
        if time.tzinfo is None:
            if spec.zone is None:
                raise Invalid(
                    RejectReason.BAD_TIMESTAMP,
                    f"timestamp {raw[:40]!r} has no time zone (set time_zone in the profile)",
                )
            time = time.replace(tzinfo=spec.zone)
        return time.astimezone(UTC)
    if not isinstance(raw, int | float):
        raise Invalid(RejectReason.BAD_TIMESTAMP, f"timestamp of type {type(raw).__name__}")
    if fmt is TimeFormat.ISO8601:
        raise Invalid(
            RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is a number, the profile expects ISO 8601"
        )
    seconds = (
        float(raw) / 1000
        if fmt is TimeFormat.EPOCH_MS or (fmt is TimeFormat.AUTO and raw > 1e11)
        else float(raw)
    )
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise Invalid(RejectReason.BAD_TIMESTAMP, f"timestamp {raw!r} is out of any sensible range") from None
