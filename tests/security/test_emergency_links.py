"""Emergency links: short by default, listed and revoked by operators in scope, keys kept out of logs.

A revoked link's key and the responder tokens already issued from it are refused at the next
request. The access log of a real server never shows a link's key.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.conftest import BrokerInfo
from tests.serving import served
from tests.twin.community import Community, build, post
from twin.api.access_log import REDACTED, RedactSecrets, redact
from twin.auth.roles import Role
from twin.services import PostgresCluster


def _link(client: TestClient, site: int, headers: dict[str, str], **extra: int) -> dict[str, object]:
    answer = client.post("/api/emergency-links", json={"site_id": site, **extra}, headers=headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_link_lasts_8_hours_unless_asked_and_72_at_most(client: TestClient) -> None:
    community = build(client)
    body = _link(client, community.site, {})
    left = datetime.fromisoformat(str(body["expires_at"])) - datetime.now(
        datetime.fromisoformat(str(body["expires_at"])).tzinfo
    )
    assert timedelta(hours=7, minutes=59) < left <= timedelta(hours=8)
    assert _link(client, community.site, {}, hours=72)["id"]
    too_long = client.post("/api/emergency-links", json={"site_id": community.site, "hours": 73})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "hours"]


def test_revoking_a_link_ends_its_key_and_its_responder_tokens_at_once(client: TestClient, make_user: MakeUser) -> None:
    community = build(client)
    make_user("ops", grants=[(Role.OPERATOR, community.site, None)])
    ops = login(client, "ops")
    body = _link(client, community.site, ops, hours=2)
    exchanged = client.post("/api/auth/emergency", json={"key": body["key"]})
    assert exchanged.status_code == 200
    responder = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
    assert client.get("/api/devices", params={"under": community.site}, headers=responder).status_code == 200

    listed = client.get("/api/emergency-links", headers=ops).json()["items"]
    assert [(link["id"], link["active"], link["uses"], link["created_by"]) for link in listed] == [
        (body["id"], True, 1, "ops")
    ]
    assert "key" not in listed[0] and "key_hash" not in listed[0]

    revoked = client.delete(f"/api/emergency-links/{body['id']}", headers=ops)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None
    assert client.get("/api/devices", params={"under": community.site}, headers=responder).status_code == 401
    assert client.post("/api/auth/emergency", json={"key": body["key"]}).status_code == 401
    assert client.get("/api/emergency-links", headers=ops).json()["items"] == []
    ended = client.get("/api/emergency-links", params={"ended": True}, headers=ops).json()["items"]
    assert [link["id"] for link in ended] == [body["id"]] and ended[0]["active"] is False
    # Revoking again changes nothing and is not audited twice.
    assert client.delete(f"/api/emergency-links/{body['id']}", headers=ops).status_code == 200
    audit = client.get("/api/audit", params={"action": "emergency.revoke"}).json()["items"]
    assert [(a["actor"], a["object_id"]) for a in audit] == [("ops", str(body["id"]))]


def test_links_are_listed_and_revoked_only_in_scope(client: TestClient, make_user: MakeUser) -> None:
    community: Community = build(client)
    other = post(client, "/api/sites", {"name": "翠湖", "origin_lat": 25.05, "origin_lon": 102.70})["id"]
    make_user("ops", grants=[(Role.OPERATOR, community.site, None)])
    make_user("elsewhere", grants=[(Role.OPERATOR, other, None)])
    make_user("look", grants=[(Role.VIEWER, community.site, None)])
    mine = _link(client, community.site, login(client, "ops"))
    theirs = _link(client, other, login(client, "elsewhere"))
    elsewhere = login(client, "elsewhere")
    listed = client.get("/api/emergency-links", headers=elsewhere).json()["items"]
    assert [link["id"] for link in listed] == [theirs["id"]]
    assert client.delete(f"/api/emergency-links/{mine['id']}", headers=elsewhere).status_code == 404
    assert client.delete("/api/emergency-links/999999", headers=elsewhere).status_code == 404
    viewer = login(client, "look")
    assert client.get("/api/emergency-links", headers=viewer).status_code == 403
    assert client.delete(f"/api/emergency-links/{mine['id']}", headers=viewer).status_code == 403
    assert len(client.get("/api/emergency-links").json()["items"]) == 2  # the administrator sees both
    assert client.post("/api/auth/emergency", json={"key": mine["key"]}).status_code == 200


def test_secret_query_values_are_redacted() -> None:
    assert redact("/respond?key=abc&lang=en") == f"/respond?key={REDACTED}&lang=en"
    assert (
        redact("/x?lang=en&Access-Token=t1;refresh_token=t2")
        == f"/x?lang=en&Access-Token={REDACTED};refresh_token={REDACTED}"
    )
    assert redact("/api/devices?q=key=1&under=2") == "/api/devices?q=key=1&under=2"
    assert redact("/api/search?keyword=x") == "/api/search?keyword=x"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/r?token=s", "1.1", 200),
        None,
    )
    assert (
        RedactSecrets().filter(record) and record.getMessage() == f'1.2.3.4:5 - "GET /r?token={REDACTED} HTTP/1.1" 200'
    )


def test_the_real_servers_access_log_never_shows_a_key(
    tmp_path: Path, postgis: PostgresCluster, mqtt_broker: BrokerInfo
) -> None:
    database = f"twin_log_{os.getpid()}"
    postgis.ensure_database(database, template="twin_template")
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": postgis.url(database),
        "TWIN_MQTT_URL": mqtt_broker.url,
        "TWIN_HOME": str(tmp_path / "var"),
        "TWIN_INGEST": "false",
    }
    log = tmp_path / "server.log"
    secret = "s3cret-Key-value-0123456789"
    try:
        with served(env, log) as port:
            for path in (f"/respond?key={secret}", f"/healthz?access_token={secret}&lang=en"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
                except urllib.error.HTTPError:
                    pass  # a page not built answers 503: it is the log line that matters
    finally:
        postgis.drop_database(database)
    text = log.read_text(errors="replace")
    assert f"GET /respond?key={REDACTED} HTTP/1.1" in text, text[-2000:]
    assert f"/healthz?access_token={REDACTED}&lang=en" in text
    assert secret not in text
