"""Request body limits: a JSON body is small; only upload routes take large files.

The limit is checked on the declared length and again while the body streams in, so a client
cannot get past it by omitting Content-Length.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PREFIXES = ("/api/imports", "/api/uploads")


class BodyLimit:
    """Answer 413 to a request whose body is larger than its route allows."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.max_upload if path.startswith(UPLOAD_PREFIXES) else self.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not answered:
                    answered = True
                    await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except ClientDisconnect:
            if not answered:
                raise


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"request body larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
