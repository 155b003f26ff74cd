"""Text that is not Unicode, anywhere in a request, is a 422 naming where it is, never a 500.

A lone surrogate escaped in JSON (``"\\ud800"``) decodes to a Python string nothing can encode;
percent-encoded bytes that are not UTF-8 and raw bytes in a header are the same in the URL and
the headers. Each case goes through the real server on a real database.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.twin.community import Community, build
from twin.api.errors import ErrorResponse

LONE = "\\ud800"
"""A JSON escape of half a UTF-16 pair, written as the raw text a client sends."""


def _post_raw(client: TestClient, method: str, url: str, body: str) -> Any:
    return client.request(method, url, content=body.encode(), headers={"content-type": "application/json"})


@pytest.fixture
def community(client: TestClient) -> Community:
    """The shared small community, built through the API."""
    return build(client)


def _cases(c: Community) -> list[tuple[str, str, str, list[Any]]]:
    device = c.devices["sd-3-2-101"]
    unit = c.units["3-2-101"]
    return [
        ("POST", "/api/auth/login", f'{{"username":"{LONE}","password":"x"}}', ["body", "username"]),
        ("POST", "/api/auth/refresh", f'{{"refresh_token":"{LONE}"}}', ["body", "refresh_token"]),
        ("POST", "/api/auth/emergency", f'{{"key":"{LONE * 4}"}}', ["body", "key"]),
        (
            "POST",
            "/api/tickets",
            f'{{"device_id":{device},"category":"plumbing","description":"a{LONE}b"}}',
            ["body", "description"],
        ),
        (
            "PATCH",
            f"/api/devices/{device}",
            f'{{"properties":{{"note":["ok","{LONE}"]}}}}',
            ["body", "properties", "note", 1],
        ),
        ("PATCH", f"/api/devices/{device}", f'{{"properties":{{"{LONE}":1}}}}', ["body", "properties", "\\ud800"]),
        ("POST", f"/api/units/{unit}/residents", f'{{"name":"张{LONE}"}}', ["body", "name"]),
    ]


def test_a_lone_surrogate_in_a_json_body_is_422_naming_the_field(client: TestClient, community: Community) -> None:
    for method, url, body, loc in _cases(community):
        response = _post_raw(client, method, url, body)
        assert response.status_code == 422, f"{method} {url}: {response.status_code} {response.text}"
        (error,) = response.json()["detail"]
        assert error["loc"] == loc, f"{method} {url}"
        assert "Unicode" in error["msg"]


def test_anonymous_callers_get_the_same_answer(anon_client: TestClient) -> None:
    response = _post_raw(anon_client, "POST", "/api/auth/login", f'{{"username":"{LONE}","password":"x"}}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_a_surrogate_pair_is_a_character_and_passes(client: TestClient, community: Community) -> None:
    device = community.devices["sd-3-2-101"]
    body = f'{{"device_id":{device},"category":"plumbing","description":"漏水 \\ud83d\\udca7"}}'
    response = _post_raw(client, "POST", "/api/tickets", body)
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "漏水 \U0001f4a7"


def test_a_backslash_before_u_is_text_not_an_escape(client: TestClient, community: Community) -> None:
    body = f'{{"device_id":{community.devices["sd-3-2-101"]},"category":"plumbing","description":"C:\\\\ud800"}}'
    response = _post_raw(client, "POST", "/api/tickets", body)
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "C:\\ud800"


@pytest.mark.parametrize(
    ("query", "name"),
    [("q=%FF", "q"), ("limit=1&q=%ED%A0%80", "q"), ("q%C3=1", "q\\xc3")],
)
def test_a_query_string_that_is_not_utf8_is_422_naming_the_parameter(
    client: TestClient, community: Community, query: str, name: str
) -> None:
    response = client.get(f"/api/devices?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", name]


def test_a_valid_percent_encoded_query_passes(client: TestClient, community: Community) -> None:
    response = client.get("/api/devices?q=%E7%83%9F%E6%84%9F")  # 烟感
    assert response.status_code == 200, response.text


def test_a_path_that_is_not_utf8_is_422(client: TestClient) -> None:
    response = client.get("/api/devices/%FF")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path"]


@pytest.mark.parametrize("header", ["x-api-key", "authorization", "user-agent"])
def test_a_header_that_is_not_utf8_is_422_naming_it(anon_client: TestClient, header: str) -> None:
    # The test client re-encodes headers as UTF-8; httpx's ASGI transport sends the bytes as given.
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=anon_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://twin") as raw:
            return await raw.get("/api/me", headers=[(header.encode(), b"Bearer \xff\xfe")])

    response = anyio.run(get)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", header]


def test_a_form_body_that_is_not_utf8_is_422(anon_client: TestClient) -> None:
    response = anon_client.post(
        "/api/auth/login", content=b"username=%FF", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_an_error_answer_that_echoes_a_lone_surrogate_still_encodes() -> None:
    response = ErrorResponse({"detail": [{"input": "\ud800", "msg": "无效"}]}, status_code=422)
    assert response.body == b'{"detail":[{"input":"\\ud800","msg":"\\u65e0\\u6548"}]}'
    assert ErrorResponse({"detail": "无效"}).body.decode() == '{"detail":"无效"}'
