"""Every answer, page or API, success or refusal, carries the security headers.

Through the real app on a real database: a 200, a 401, a 404, a 413 from the body limit, a 422
from the Unicode check, the pages, the documentation and the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from twin.api.headers import policy

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _check(response: httpx.Response, csp: str | None = None) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{response.request.url}: {name}"
    assert response.headers["content-security-policy"] == (csp or policy())
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "server" not in response.headers


def test_api_answers_of_every_kind_carry_them(client: TestClient) -> None:
    _check(client.get("/api/devices"))
    _check(client.get("/api/devices/987654"))
    _check(client.get("/api/devices?q=%FF"))
    _check(client.post("/api/tickets", content=b"{" + b" " * 3_000_000 + b"}"))
    _check(client.get("/healthz"))
    _check(client.get("/openapi.json"))
    _check(client.get("/api/me", headers={"Authorization": ""}))


def test_pages_carry_them_and_only_the_docs_allow_inline_styles(anon_client: TestClient) -> None:
    for path in ("/", "/wall", "/respond", "/assets/none.js"):
        _check(anon_client.get(path))
    for path in ("/docs", "/redoc"):
        _check(anon_client.get(path), policy(inline_styles=True))
    strict = policy()
    assert "'unsafe-inline'" not in strict and "'unsafe-eval'" not in strict
    assert "script-src 'self';" in strict


@pytest.mark.parametrize(("scheme", "hsts"), [("http", False), ("https", True)])
def test_hsts_only_under_tls(app_factory: Callable[[], TestClient], scheme: str, hsts: bool) -> None:
    with app_factory() as client:
        answer = client.get(f"{scheme}://testserver/healthz")
    assert ("strict-transport-security" in answer.headers) is hsts
    if hsts:
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
