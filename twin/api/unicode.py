r"""Refuse text that is not Unicode before any route sees it: 422 naming where it is, never a 500.

Python's JSON decoder turns ``"\ud800"`` into a string holding a lone surrogate, which pydantic
lets through and which nothing downstream can encode (the database driver, the error handler that
echoes the input). Percent-encoded bytes that are not UTF-8 (``?q=%FF``) are silently replaced by
Starlette, and a header is whatever bytes a client sends. One check at the door, on the raw
request, covers every route: the path, each query parameter, each header and a JSON (or form)
body. It costs a scan only where the text could be wrong: a ``%`` or a byte above 127 in the URL,
a non-ASCII header, a ``\uD8…``-``\uDF…`` escape in a JSON body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate; alone (not half of a pair) it is no character."""
_FORM = b"application/x-www-form-urlencoded"
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

Location = tuple[str | int, ...]


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(raw: bytes) -> str:
    """Decode for a message, whatever the bytes are."""
    return raw.decode("utf-8", "backslashreplace")


def bad_form(raw: bytes) -> Location | None:
    """Return the name of the first parameter of a query string or form that is not UTF-8 once decoded."""
    if raw.isascii() and b"%" not in raw:
        return None
    for pair in re.split(rb"[&;]", raw):
        name, _, value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        if not _utf8(name_bytes) or not _utf8(unquote_to_bytes(value.replace(b"+", b" "))):
            return (_text(name_bytes),)
    return None


def bad_header(headers: list[tuple[bytes, bytes]]) -> Location | None:
    """Return the name of the first header whose value is not UTF-8."""
    for name, value in headers:
        if not value.isascii() and not _utf8(value):
            return (_text(name),)
    return None


def lone_surrogate(value: Any, where: Location = ()) -> Location | None:
    """Return where in decoded JSON a string (or a key) holds a lone surrogate."""
    if isinstance(value, str):
        return where if _has_surrogate(value) else None
    items: Iterator[tuple[str | int, Any]]
    if isinstance(value, dict):
        for key in value:
            if _has_surrogate(key):
                return (*where, key.encode("utf-8", "backslashreplace").decode())
        items = iter(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = lone_surrogate(item, (*where, key))
        if found is not None:
            return found
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_json(body: bytes) -> Location | None:
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing says so
    return lone_surrogate(decoded)


class ValidUnicode:
    """Answer 422 to a request whose path, query, headers or body hold text that is not Unicode."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the URL and headers at once, and a JSON or form body once it is read."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        problem: tuple[str, Location] | None = None
        if (not raw_path.isascii() or b"%" in raw_path) and not _utf8(unquote_to_bytes(raw_path)):
            problem = ("path", ())
        elif (where := bad_form(scope.get("query_string", b""))) is not None:
            problem = ("query", where)
        elif (where := bad_header(scope["headers"])) is not None:
            problem = ("header", where)
        if problem is not None:
            await _refuse(scope, send, *problem)
            return
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if not (content_type == _FORM or content_type.endswith(b"json")):
            await self.app(scope, receive, send)
            return
        messages, body = await _read(receive)
        where = bad_form(body) if content_type == _FORM else _bad_json(body)
        if where is not None:
            await _refuse(scope, send, "body", where)
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, part: str, where: Location) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1007, "reason": f"{part} is not valid Unicode"})
        return
    detail = [{"loc": [part, *where], "msg": f"{part} is not valid Unicode (UTF-8)", "type": "twin.unicode"}]
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
