"""Liveness, readiness and metrics against the real database and broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.errors import ServiceError
from twin.services import PostgresCluster
from twin.services.system import free_port
from twin.settings import Settings


def test_healthz_and_readyz_report_database_and_broker(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["database"]["ok"] and body["database"]["postgis"].startswith("3.")
    assert body["broker"]["ok"]


def test_readyz_is_503_naming_the_broker_when_it_does_not_answer(tmp_path: Path, db_url: str) -> None:
    settings = Settings(home=tmp_path, mqtt_url=f"mqtt://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings, db_url=db_url)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["broker"]["ok"] is False
    assert ready.json()["database"]["ok"] is True


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/sites/424242")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'twin_http_requests_total{method="GET",route="/api/sites/{site_id}",status="404"} 1.0' in response.text


def test_server_refuses_a_database_whose_schema_is_behind(postgis: PostgresCluster, tmp_path: Path) -> None:
    postgis.ensure_database("twin_unmigrated")
    try:
        app = create_app(Settings(home=tmp_path), db_url=postgis.url("twin_unmigrated"))
        with pytest.raises(ServiceError, match="twin db upgrade"), TestClient(app):
            pass
    finally:
        postgis.drop_database("twin_unmigrated")


def test_pages_say_the_front_end_is_not_built(client: TestClient) -> None:
    response = client.get("/wall")
    assert response.status_code == 503
    assert "make web" in response.text
