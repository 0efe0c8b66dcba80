"""Webhook: the notification as JSON, POSTed with an ``Idempotency-Key`` and an HMAC-SHA256 signature.

The signature is ``X-Lakesentinel-Signature: sha256=<hex>`` over ``<timestamp>.<body>`` with the
configured secret, the timestamp in ``X-Lakesentinel-Timestamp`` (so a receiver can refuse replays).
A re-send after a crash carries the same key, and receivers dedupe on it; there is nothing to ask
the receiver first, so :meth:`WebhookReceiver.find_delivered` always says "send".

>>> sign("k", "1700000000", b'{"a":1}')
'sha256=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from typing import Mapping
from urllib.error import HTTPError, URLError

from lakesentinel.notify.config import WebhookConfig
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.receiver import Outcome, classify_http, transport_error

SCHEMA_VERSION = 1


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(n: Notification) -> bytes:
    doc = {"version": SCHEMA_VERSION, "status": n.status, **n.model_dump(mode="json")}
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class WebhookReceiver:
    def __init__(self, integration: str, config: WebhookConfig, *, timeout: float = 10.0, clock=time.time):
        self.integration = integration
        self.config = config
        self.timeout = timeout
        self.clock = clock
        self.url = config.url if isinstance(config.url, str) else config.url.resolve()
        self.secret = config.secret.resolve() if config.secret is not None else None

    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        if n.reason == "resolved" and not self.config.send_resolved:
            return Outcome.delivered(refs)
        body = payload(n)
        stamp = str(int(self.clock()))
        headers = {**self.config.headers, "Content-Type": "application/json", "User-Agent": "lakesentinel",
                   "Idempotency-Key": n.idempotency_key, "X-Lakesentinel-Timestamp": stamp}
        if self.secret is not None:
            headers["X-Lakesentinel-Signature"] = sign(self.secret, stamp, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return Outcome.delivered({**refs, "status": str(resp.status)})
        except HTTPError as exc:
            return classify_http(exc.code, exc.headers.get("Retry-After"), f"webhook {exc.reason}")
        except (URLError, OSError) as exc:
            return transport_error(exc)

    def find_delivered(self, n: Notification, refs: Mapping[str, str]) -> Outcome | None:
        return None  # the receiver dedupes on Idempotency-Key: re-sending is the check
