"""The shared community (tests/twin/community.py), built through the API, for every operations test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.twin.community import Community, build


@pytest.fixture
def community(client: TestClient) -> Community:
    return build(client)
