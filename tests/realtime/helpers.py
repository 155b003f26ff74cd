"""Small builders shared by the realtime tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from realtime.decode import Decoder
from realtime.message import ReceiveMessage
from realtime.profiles import load_profiles

PROFILES = Path(__file__).resolve().parents[2] / "scenes" / "profiles"
NOW = datetime(2026, 5, 9, 10, 0, 0, tzinfo=UTC).timestamp()
"""A fixed receipt time, so that timestamp checks do not depend on the clock."""


def message(topic: str, payload: bytes | str, at: float = NOW) -> ReceiveMessage:
    """Return a received QoS 1 message."""
    data = payload.encode() if isinstance(payload, str) else payload
    return ReceiveMessage(topic, data, 1, False, at)


def shipped_decoder() -> Decoder:
    """Return a decoder over the example profiles of scenes/profiles."""
    return Decoder(load_profiles([PROFILES]))
