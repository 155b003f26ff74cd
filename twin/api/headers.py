"""Security headers on every HTTP answer, pages and API alike, and the policy they state.

The Content-Security-Policy allows only the server's own scripts (no inline script, no eval), so
an injected ``<script>`` does nothing; three.js needs ``blob:`` and ``data:`` for textures and
workers and nothing for WebGL. Only the API documentation pages also allow inline styles, which
Swagger UI and ReDoc inject. No page may be framed (clickjacking), no answer is sniffed into
another type, no address leaks in a Referer, and under TLS browsers are told to stay on HTTPS.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.api.docs import DOCS_PATHS

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(*, inline_styles: bool = False) -> str:
    """Return the Content-Security-Policy, with inline styles allowed or not."""
    rules = dict(_POLICY)
    if inline_styles:
        rules["style-src"] += " 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in rules.items())


HSTS = b"max-age=31536000; includeSubDomains"
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_STRICT = (b"content-security-policy", policy().encode())
_DOCS = (b"content-security-policy", policy(inline_styles=True).encode())


class SecurityHeaders:
    """Add the security headers to each answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and add the headers to its answer's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [*_COMMON, _DOCS if scope["path"] in DOCS_PATHS else _STRICT]
        if scope.get("scheme") == "https":
            added.append((b"strict-transport-security", HSTS))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
