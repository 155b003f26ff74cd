"""The messages of the live protocol: what a client may send, and how the hub answers.

Client messages are checked here and nowhere else, so a malformed one gets the same clear error
wherever it comes from; the hub's own messages are encoded with orjson, once. docs/live.md and
docs/live.schema.json describe the same messages for integrators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import orjson

KINDS: Final = ("telemetry", "status", "alarm", "ticket", "billing", "import", "inspection")
"""Every kind of event a subscription may ask for."""

DEFAULT_KINDS: Final = ("telemetry", "status", "alarm", "ticket", "billing")

SCOPE_LEVELS: Final = ("site", "building", "floor", "space", "device")

CLOSE_RESYNC: Final = 4000
"""The client fell too far behind: reconnect and subscribe afresh, without resuming."""
CLOSE_UNAUTHORIZED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403
CLOSE_IDLE: Final = 4408
CLOSE_TOO_MANY: Final = 4429
CLOSE_BAD_MESSAGE: Final = 4422

MAX_MESSAGE_BYTES: Final = 16 << 10
"""A client message is a small command; anything larger is refused unread."""

_SCOPE = re.compile(r"^(site|building|floor|space|device):([1-9][0-9]{0,17})$")
_SUB = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ProtocolError(ValueError):
    """A client message the hub refuses; ``code`` follows HTTP (422 malformed, 403, 404)."""

    def __init__(self, message: str, code: int = 422, sub: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.sub = sub


@dataclass(frozen=True, slots=True)
class Auth:
    """``{"type": "auth", "token": …}``: an access token, an API key or an emergency token."""

    token: str


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a client left a stream: the stream id and the last sequence number it saw."""

    stream: str
    seq: int


@dataclass(frozen=True, slots=True)
class Subscribe:
    """``{"type": "subscribe", "sub", "scope", "kinds", "resume"?, "rate"?}``."""

    sub: str
    level: str
    id: int
    kinds: tuple[str, ...]
    resume: Resume | None = None
    rate: float | None = None
    """At most this many telemetry updates per second per device (a wall display asks for 2)."""

    @property
    def scope(self) -> str:
        """Return the scope as clients spell it (``floor:12``)."""
        return f"{self.level}:{self.id}"


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """``{"type": "unsubscribe", "sub"}``."""

    sub: str


@dataclass(frozen=True, slots=True)
class Ping:
    """``{"type": "ping"}`` (the client checks the server) or ``{"type": "pong"}`` (its answer)."""

    answer: bool


ClientMessage = Auth | Subscribe | Unsubscribe | Ping


def parse(raw: str | bytes) -> ClientMessage:
    """Read one client message; raise ProtocolError naming the field that is wrong."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message is a JSON object with a 'type'")
    kind = data.get("type")
    if kind == "auth":
        token = data.get("token")
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise ProtocolError("auth: 'token' must be a non-empty string")
        return Auth(token)
    if kind == "subscribe":
        return _subscribe(data)
    if kind == "unsubscribe":
        return Unsubscribe(_sub_of(data))
    if kind in ("ping", "pong"):
        return Ping(answer=kind == "ping")
    raise ProtocolError(f"unknown message type {kind!r}; expected auth, subscribe, unsubscribe, ping or pong")


def _sub_of(data: dict[str, Any]) -> str:
    sub = data.get("sub")
    if not isinstance(sub, str) or not _SUB.match(sub):
        raise ProtocolError("'sub' must be 1–64 letters, digits or _.:-, chosen by the client")
    return sub


def _subscribe(data: dict[str, Any]) -> Subscribe:
    sub = _sub_of(data)
    scope = data.get("scope")
    match = _SCOPE.match(scope) if isinstance(scope, str) else None
    if match is None:
        raise ProtocolError(
            f"subscribe: 'scope' must be site:ID, building:ID, floor:ID, space:ID or device:ID, not {scope!r}", sub=sub
        )
    kinds_in = data.get("kinds", list(DEFAULT_KINDS))
    if not isinstance(kinds_in, list) or not kinds_in or not all(isinstance(k, str) for k in kinds_in):
        raise ProtocolError("subscribe: 'kinds' must be a non-empty list of event kinds", sub=sub)
    unknown = sorted(set(kinds_in) - set(KINDS))
    if unknown:
        raise ProtocolError(f"subscribe: unknown kinds {unknown}; known: {list(KINDS)}", sub=sub)
    return Subscribe(
        sub=sub,
        level=match.group(1),
        id=int(match.group(2)),
        kinds=tuple(k for k in KINDS if k in kinds_in),
        resume=_resume(data.get("resume"), sub),
        rate=_rate(data.get("rate"), sub),
    )


def _resume(value: Any, sub: str) -> Resume | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError("subscribe: 'resume' must be {stream, seq}", sub=sub)
    stream, seq = value.get("stream"), value.get("seq")
    if not isinstance(stream, str) or len(stream) > 128 or type(seq) is not int or seq < 0:
        raise ProtocolError("subscribe: 'resume' needs a 'stream' string and a non-negative integer 'seq'", sub=sub)
    return Resume(stream, seq)


def _rate(value: Any, sub: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 100:
        raise ProtocolError("subscribe: 'rate' is updates per second per device, from 0.1 to 100", sub=sub)
    return float(value)


def encode(message: dict[str, Any]) -> bytes:
    """Encode a hub message once; every client that gets it is sent these bytes."""
    return orjson.dumps(message)


def error(message: str, code: int, sub: str | None = None) -> bytes:
    """Encode an error message (``sub`` names the subscription it concerns, if any)."""
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if sub is not None:
        body["sub"] = sub
    return encode(body)


def frame(items: list[bytes]) -> str:
    """Join queued messages into one text frame: one object alone, several as a JSON array."""
    if len(items) == 1:
        return items[0].decode()
    return (b"[" + b",".join(items) + b"]").decode()
