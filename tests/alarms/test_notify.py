"""The webhook notifier against a real HTTP server on loopback: signed, retried, only what matters."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from twin.alarms.notify import SIGNATURE_HEADER, Dispatcher, Notice, WebhookNotifier, dispatcher_from, worth_telling
from twin.app import create_app
from twin.errors import ServiceError
from twin.events import EventBus, RegistryEvent
from twin.settings import Settings

SECRET = b"s3cret"


class Receiver:
    """A webhook receiver that fails the first ``failures`` requests with 503."""

    def __init__(self, failures: int) -> None:
        self.failures, self.bodies, self.signatures = failures, [], []
        self.got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                else:
                    outer.bodies.append(body)
                    outer.signatures.append(self.headers[SIGNATURE_HEADER])
                    self.send_response(204)
                    outer.got.set()
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.server.shutdown()
    r.server.server_close()


def alarm_event(cause: str, severity: str = "critical", parent: int | None = None) -> RegistryEvent:
    data = {"id": 7, "rule": "确认火警 confirmed fire", "severity": severity, "cause": cause, "message": "2 alarms",
            "parent_id": parent}  # fmt: skip
    return RegistryEvent("create", "alarm", 7, ("site:1",), data)


def test_a_critical_alarm_is_posted_signed_after_retries(receiver: Receiver) -> None:
    bus = EventBus()
    notifier = WebhookNotifier(receiver.url, SECRET, attempts=4, backoff_s=0.01)
    dispatcher = Dispatcher([notifier])
    dispatcher.attach(bus)
    bus.publish(alarm_event("raised"))
    assert receiver.got.wait(10)
    dispatcher.close()
    notifier.close()
    [body] = receiver.bodies
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert receiver.signatures == [expected]
    sent = json.loads(body)
    assert sent["reason"] == "raised" and sent["alarm"]["id"] == 7 and "紧急" in sent["title"]


def test_a_receiver_that_keeps_failing_is_given_up_on_saying_why(receiver: Receiver) -> None:
    receiver.failures = 10
    notifier = WebhookNotifier(receiver.url, SECRET, attempts=2, backoff_s=0.01)
    with pytest.raises(RuntimeError, match="failed 2 times; last: HTTP 503"):
        notifier.send(Notice("raised", alarm_event("raised").data))
    notifier.close()


def test_only_critical_roots_and_escalations_are_worth_telling() -> None:
    assert worth_telling(alarm_event("raised")) is not None
    assert worth_telling(alarm_event("escalated", "major")) is not None
    assert worth_telling(alarm_event("raised", "major")) is None
    assert worth_telling(alarm_event("raised", parent=3)) is None
    assert worth_telling(alarm_event("ack")) is None


def test_the_webhook_is_off_by_default_and_refused_without_its_secret(settings: Settings) -> None:
    assert dispatcher_from(settings) is None
    with pytest.raises(ServiceError, match="TWIN_ALARM_WEBHOOK_URL is set without TWIN_ALARM_WEBHOOK_SECRET"):
        dispatcher_from(settings.model_copy(update={"alarm_webhook_url": "https://hooks.example/alarm"}))
    with pytest.raises(ServiceError, match="'ftp://x' is not an http"):
        dispatcher_from(settings.model_copy(update={"alarm_webhook_url": "ftp://x", "alarm_webhook_secret": "k"}))


def test_the_server_posts_critical_alarms_to_the_webhook_its_settings_name(
    settings: Settings, db_url: str, receiver: Receiver
) -> None:
    receiver.failures = 0
    configured = settings.model_copy(
        update={"alarm_webhook_url": receiver.url, "alarm_webhook_secret": SecretStr(SECRET.decode())}
    )
    app = create_app(configured, db_url=db_url)
    with TestClient(app):
        app.state.runtime.events.publish(alarm_event("raised"))
        assert receiver.got.wait(10)
        app.state.runtime.events.publish(alarm_event("raised", "major"))
    [body] = receiver.bodies
    assert receiver.signatures == ["sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()]
