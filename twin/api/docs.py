"""The API's documentation pages, /docs (Swagger UI) and /redoc, from the server's own files.

FastAPI's pages load their scripts, styles and favicon from CDNs, so they were blank without
internet, and Swagger UI's page starts with an inline script the Content-Security-Policy forbids.
These pages load the copies the web build puts in ``dist/assets/docs`` (``web/vite.config.ts``)
and start Swagger UI from a script file; they are public, as the OpenAPI document is.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

ASSETS = "/assets/docs"
"""Where the web build puts the documentation's scripts and styles."""
DOCS_PATHS = ("/docs", "/redoc")
"""The pages whose scripts inject their own styles (see ``twin.api.headers``)."""

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">{extra}</head>
<body>{body}</body></html>
"""


def _page(title: str, extra: str, body: str) -> HTMLResponse:
    html = _HEAD.format(title=escape(title), assets=ASSETS, extra=extra, body=body)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc for the app's OpenAPI document (the app is made with docs_url=None)."""
    spec = escape(app.openapi_url or "/openapi.json")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} · Swagger UI",
            f'<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">',
            f'<div id="swagger-ui" data-openapi="{spec}"></div>'
            f'<script src="{ASSETS}/swagger-ui-bundle.js"></script><script src="{ASSETS}/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} · ReDoc",
            "",
            f'<redoc spec-url="{spec}"></redoc><script src="{ASSETS}/redoc.standalone.js"></script>',
        )
