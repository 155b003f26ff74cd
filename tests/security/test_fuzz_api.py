"""Schemathesis against our own OpenAPI document, as nobody, as a scoped operator and as an administrator.

With a token (scoped or not) no answer is a 5xx and every answer whose status the route declares
matches the declared schema (schemathesis' own ``response_schema_conformance``), for well-formed
and malformed requests alike; without one, a protected route serves nothing: 401 to a well-formed
request, a 4xx to a malformed one (input checks may refuse it before authentication).
The cases come from schemathesis' strategies and are run by Hypothesis inside one test (its pytest
plugin does not load under this pytest). Failures are collected rather than raised, so one run
lists every mismatch instead of the one Hypothesis shrinks; the whole run takes under two minutes.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api_fixtures import MakeUser, login
from tests.twin.community import build
from twin.auth.roles import Role

OPEN = {"/api/auth/login", "/api/auth/refresh", "/api/auth/emergency", "/healthz", "/readyz"}
CHECKS = [not_a_server_error, response_schema_conformance]

Check = Callable[[schemathesis.Case], str | None]


def _fuzz(client: TestClient, examples: int, check: Check) -> tuple[int, list[str]]:
    """Run `check` on generated cases of every operation; return how many operations and what failed."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)))
        def run(case: schemathesis.Case) -> None:
            failure = check(case)
            if failure is not None:
                failures.append(failure)

        run()
        operations += 1
    return operations, sorted(set(failures))


def _conforming(headers: dict[str, str]) -> Check:
    """No 5xx and every declared answer as declared, for a caller with these headers."""

    def check(case: schemathesis.Case) -> str | None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            titles = "; ".join(sorted({failure.title for failure in group.exceptions}))
            return f"{case.method} {case.path} {response.status_code}: {titles}: {group.exceptions[0].message[:200]}"
        except Failure as failure:
            return f"{case.method} {case.path} {response.status_code}: {failure.title}: {failure.message[:200]}"
        return None

    return check


def _anonymous(case: schemathesis.Case) -> str | None:
    """A well-formed request to a protected route gets 401; a malformed one may be refused first, never served."""
    response = case.call(headers={"Authorization": ""})
    status = response.status_code
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    protected = case.path not in OPEN
    if status >= 500 or (protected and (status < 400 if negative else status != 401)):
        return f"{case.method} {case.formatted_path} ({'malformed' if negative else 'well-formed'}): {status}"
    return None


def test_no_server_error_no_schema_violation_and_nothing_served_without_a_token(
    app_factory: Callable[[], TestClient], make_user: MakeUser
) -> None:
    make_user("root", grants=[(Role.ADMIN, None, None)])
    with app_factory() as client:
        admin = login(client, "root")
        client.headers.update(admin)
        community = build(client)
        make_user("ops", grants=[(Role.OPERATOR, community.tower, None)])
        scoped = login(client, "ops")

        _, anonymous = _fuzz(client, 4, _anonymous)
        assert anonymous == [], "\n".join(anonymous)
        # The scoped operator goes before the administrator, whose cases may delete the tower.
        _, as_operator = _fuzz(client, 25, _conforming(scoped))
        assert as_operator == [], "\n".join(as_operator)
        operations, as_admin = _fuzz(client, 30, _conforming(admin))
        assert as_admin == [], "\n".join(as_admin)
        assert operations > 30


def test_a_value_the_database_cannot_hold_is_refused_in_the_declared_shape(client: TestClient) -> None:
    # The case the fuzz found: an id past bigint got a 422 whose detail was a string, not the declared list.
    response = client.get("/api/sites/17141917291754770432/models")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["request"] and "cannot be stored" in error["msg"] and error["type"] == "twin.out_of_range"
