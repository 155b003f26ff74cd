"""Schemathesis against our own OpenAPI document: no 5xx with a token, nothing served without one.

The cases come from schemathesis' strategies and are run by Hypothesis inside one test per
question (its pytest plugin does not load under this pytest).
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.api_fixtures import MakeUser, login
from tests.twin.community import build
from twin.auth.roles import Role

OPEN = {"/api/auth/login", "/api/auth/refresh", "/api/auth/emergency", "/healthz", "/readyz"}


def _fuzz(client: TestClient, examples: int, check: Callable[[schemathesis.Case], None]) -> int:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            check(case)

        run()
        operations += 1
    return operations


def test_no_server_error_with_a_token_and_nothing_served_without_one(
    app_factory: Callable[[], TestClient], make_user: MakeUser
) -> None:
    make_user("root", grants=[(Role.ADMIN, None, None)])
    with app_factory() as client:
        headers = login(client, "root")
        client.headers.update(headers)
        build(client)

        def authorised(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

        def anonymous(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": ""})
            assert response.status_code < 500
            if case.path not in OPEN:
                assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"

        assert _fuzz(client, 10, authorised) > 30
        _fuzz(client, 4, anonymous)
