"""Telling people who are not looking at a screen: a pluggable notifier, webhooks first.

Only what needs a person now is sent: a CRITICAL alarm when it is raised (or re-opened, or rises
to CRITICAL) and every escalation. A notifier is anything with ``send(notice)``; the dispatcher
listens to committed registry events and sends on a worker thread, so a slow receiver never holds
up a commit or the ingest. The webhook POSTs JSON signed with HMAC-SHA256 of the exact body
(``X-Twin-Signature: sha256=<hex>``), and retries with backoff on a connection error or a 5xx.

Extension points, documented in docs/alarms.md: an SMS gateway (Aliyun SMS, Tencent Cloud SMS)
or a WeChat Work group robot is a class with the same ``send``; the robot is a webhook with its own
body, so it subclasses :class:`WebhookNotifier` and overrides ``body``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from twin.alarms.events import ALARM_EVENT
from twin.alarms.severity import SEVERITIES, AlarmSeverity
from twin.errors import ServiceError
from twin.events import EventBus, RegistryEvent
from twin.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twin-Signature"


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell: why (``raised`` or ``escalated``) and the alarm as plain data."""

    reason: str
    alarm: dict[str, Any]

    def title(self) -> str:
        """Return a one-line human summary in both languages."""
        label = SEVERITIES[AlarmSeverity(self.alarm["severity"])]
        return f"[{label.zh} {label.en}] {self.alarm['rule']} · {self.alarm.get('message') or ''}".strip()


class Notifier(Protocol):
    """Something that tells people: a webhook, an SMS gateway, a WeChat robot."""

    def send(self, notice: Notice) -> None:
        """Deliver one notice or raise after giving up."""


def sign(secret: bytes, body: bytes) -> str:
    """Return the signature header's value for a body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """POST each notice as JSON to a URL, signed, with retries and backoff."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Send to ``url`` signing with ``secret``; ``attempts`` tries in all."""
        self.url, self.secret, self.attempts, self.backoff_s = url, secret, attempts, backoff_s
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def body(self, notice: Notice) -> dict[str, Any]:
        """Return the JSON document to POST (a subclass speaks a receiver's own format)."""
        return {"reason": notice.reason, "title": notice.title(), "alarm": notice.alarm}

    def send(self, notice: Notice) -> None:
        """POST the notice; retry a refused connection or a 5xx, give up on a 4xx at once."""
        body = json.dumps(self.body(notice), ensure_ascii=False, sort_keys=True, default=str).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return
                if response.status_code < 500:
                    raise RuntimeError(f"webhook {self.url} refused the notice: HTTP {response.status_code}")
                error = f"HTTP {response.status_code}"
            if attempt < self.attempts:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise RuntimeError(f"webhook {self.url} failed {self.attempts} times; last: {error}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def worth_telling(event: RegistryEvent) -> Notice | None:
    """Return the notice an alarm event deserves, if any: CRITICAL raised or re-opened, or escalated."""
    if event.kind != ALARM_EVENT or event.data.get("parent_id") is not None:
        return None
    cause = event.data.get("cause")
    if cause == "escalated":
        return Notice("escalated", event.data)
    if cause in ("raised", "reopened", "worsened") and event.data.get("severity") == AlarmSeverity.CRITICAL:
        return Notice("raised", event.data)
    return None


class Dispatcher:
    """Listen to committed alarm events and hand what is worth telling to every notifier."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        """Send through ``notifiers``, each notice on one worker thread in turn."""
        self.notifiers = list(notifiers)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="twin-notify")
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, bus: EventBus) -> None:
        """Start listening to ``bus``."""
        self._unsubscribe = bus.subscribe(self.on_event)

    def on_event(self, event: RegistryEvent) -> None:
        """Queue the notice of an event, if it deserves one (never blocks the publisher)."""
        notice = worth_telling(event)
        if notice is not None:
            for notifier in self.notifiers:
                self._pool.submit(self._send, notifier, notice)

    @staticmethod
    def _send(notifier: Notifier, notice: Notice) -> None:
        try:
            notifier.send(notice)
        except Exception:
            log.exception("notifier %s gave up on alarm %s", type(notifier).__name__, notice.alarm.get("id"))

    def close(self, wait: bool = True) -> None:
        """Stop listening, finish (or drop) what is queued, and close the notifiers that hold connections."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._pool.shutdown(wait=wait)
        for notifier in self.notifiers:
            close = getattr(notifier, "close", None)
            if callable(close):
                close()


def dispatcher_from(settings: Settings) -> Dispatcher | None:
    """Return the dispatcher the settings ask for (a signed webhook), or None when none is configured.

    A webhook without its secret is refused at start: an unsigned alarm feed is one anybody could
    forge, and the receiver would have no way to tell.
    """
    url, secret = settings.alarm_webhook_url, settings.alarm_webhook_secret
    if url is None:
        return None
    if not url.startswith(("https://", "http://")):
        raise ServiceError(f"TWIN_ALARM_WEBHOOK_URL: {url!r} is not an http(s) URL", "give the receiver's full URL")
    if secret is None or not secret.get_secret_value():
        raise ServiceError("TWIN_ALARM_WEBHOOK_URL is set without TWIN_ALARM_WEBHOOK_SECRET", "set the shared secret")
    return Dispatcher([WebhookNotifier(url, secret.get_secret_value().encode())])
