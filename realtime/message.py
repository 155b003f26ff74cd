"""The one message type the rest of the server sees, whatever MQTT library delivered it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReceiveMessage:
    """A message as received: raw payload bytes and the wall-clock time of receipt."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    """Seconds since the epoch, when the network thread took the message off the socket."""
