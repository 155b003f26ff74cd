"""Every request the built web bundle can make is a route the server declares, with that method.

The typed client (openapi-fetch) leaves each call in the bundle as ``.GET("/api/…")``; calls
still made through ``Api.request`` leave ``.request("POST", `/api/…`)``; any other ``/api/…``
literal is checked by its path. The server's routes are read from the app's own OpenAPI
document, built in-process: no database, no server, no browser.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from tests.web.conftest import DIST, _built_front_end
from twin.app import create_app

METHODS = "GET|POST|PUT|PATCH|DELETE"
TYPED = re.compile(rf'\.({METHODS})\("(/api/[^"]*)"')
UNTYPED = re.compile(rf'\.request\("({METHODS})",\s*([`"])(/api/[^`"]*)\2')
ANY_LITERAL = re.compile(r'([`"])(/api/[^`"]*)\1')
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


@cache
def _routes() -> dict[str, set[str]]:
    """Return each declared path template with its methods, from the app's OpenAPI document."""
    document: dict[str, Any] = create_app(db_url="postgresql+psycopg://openapi@127.0.0.1:9/openapi").openapi()
    return {path: {method.upper() for method in item} for path, item in document["paths"].items()}


def _bundle() -> str:
    _built_front_end()
    files = sorted((DIST / "assets").glob("*.js"))
    assert files, f"no JavaScript in {DIST / 'assets'}"
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _segments(path: str) -> list[str]:
    return INTERPOLATION.sub("{}", path.split("?", 1)[0]).strip("/").split("/")


def _matches(asked: str, template: str) -> bool:
    """Tell whether a bundle path (``{}`` for an interpolation) can reach a declared template."""
    a, t = _segments(asked), _segments(template)
    parameter = re.compile(r"^\{\w*\}$")
    return len(a) == len(t) and all(x == y or parameter.match(y) for x, y in zip(a, t, strict=True))


def _declared(method: str | None, asked: str) -> bool:
    return any(_matches(asked, path) and (method is None or method in methods) for path, methods in _routes().items())


KNOWN_GAPS: dict[str, str] = {}
"""Requests the bundle may make that the server does not declare, each with its reason: none now."""


def _undeclared(bundle: str) -> set[str]:
    typed = set(TYPED.findall(bundle))
    must = {("GET", "/api/catalogue"), ("POST", "/api/alarms/{alarm_id}/ack"), ("GET", "/api/devices/{device_id}")}
    # The scan sees the calls it must: if the bundle's shape changed, this says so instead of passing empty.
    assert must <= typed, f"the scan found {sorted(typed)}"
    wrong = {f"{m} {p}" for m, p in typed if m not in _routes().get(p, set())}
    untyped = {(m, p) for m, _quote, p in UNTYPED.findall(bundle)}
    wrong |= {f"{m} {'/'.join(['', *_segments(p)])}" for m, p in untyped if not _declared(m, p)}
    calls = {p for _m, p in untyped}
    others = {p for _quote, p in ANY_LITERAL.findall(bundle) if not p.endswith("/") and p not in calls}
    return wrong | {"/".join(["", *_segments(p)]) for p in others if not _declared(None, p)}


def test_every_request_of_the_bundle_is_a_declared_route() -> None:
    undeclared = _undeclared(_bundle())
    assert sorted(undeclared - KNOWN_GAPS.keys()) == [], "the bundle asks for routes the server does not declare"
    assert sorted(KNOWN_GAPS.keys() - undeclared) == [], "a known gap is closed: take it off KNOWN_GAPS"


@pytest.mark.parametrize(
    ("asked", "template", "expected"),
    [
        ("/api/floors/${encodeURIComponent(e)}/route?to=x", "/api/floors/{floor_id}/route", True),
        ("/api/alarms/counts?under=${o}", "/api/alarms/counts", True),
        ("/api/alarms/legend", "/api/catalogue", False),
        ("/api/devices/${d}/alarms", "/api/devices/{device_id}", False),
    ],
)
def test_the_path_matcher_tells_a_route_from_a_near_miss(asked: str, template: str, expected: bool) -> None:
    assert _matches(asked, template) is expected
