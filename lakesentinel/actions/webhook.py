"""Webhook: the notification as JSON, POSTed with an ``Idempotency-Key`` and an HMAC-SHA256 signature.

The signature is ``X-Lakesentinel-Signature: sha256=<hex>``, the HMAC-SHA256 with the configured secret
of ``<timestamp>.<idempotency key>.<body>``; the timestamp (Unix seconds) is in
``X-Lakesentinel-Timestamp``. Covering the key stops a captured request from being replayed under
another key (past the receiver's dedupe); covering the timestamp lets a receiver refuse stale requests
(:func:`verify`, ``DEFAULT_TOLERANCE_S``). A re-send after a crash carries the same key, and receivers
dedupe on it; a webhook has no look-up, so :meth:`WebhookReceiver.find_delivered` always says "send".

>>> sign("k", "1700000000", "key1", b'{"a":1}')
'sha256=58c3df442b9d9b5baa02fc506ff9ff6ae7f4a974f8c190b9fe71d31dff383035'
>>> verify("k", "1700000000", "key1", b'{"a":1}', sign("k", "1700000000", "key1", b'{"a":1}'), now=1700000100)
>>> verify("k", "1700000000", "key1", b'{"a":1}', sign("k", "1700000000", "key1", b'{"a":1}'), now=1700009999)
'stale timestamp (9999 s old, tolerance 300 s)'
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


DEFAULT_TOLERANCE_S = 300  # how old (or how far ahead) a timestamp a receiver should accept


def sign(secret: str, timestamp: str, key: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + key.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, key: str, body: bytes, signature: str, *, now: float,
           tolerance_s: float = DEFAULT_TOLERANCE_S) -> str | None:
    """Why a request must be refused (bad signature, stale or unreadable timestamp), or None when it is
    genuine. What a receiver runs before it records or acts on anything."""
    if not hmac.compare_digest(sign(secret, timestamp, key, body), signature or ""):
        return "bad signature"
    try:
        age = now - int(timestamp)
    except ValueError:
        return "unreadable timestamp"
    if abs(age) > tolerance_s:
        return f"stale timestamp ({age:.0f} s old, tolerance {tolerance_s:.0f} s)"
    return None


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
        self.headers = {name: value if isinstance(value, str) else value.resolve()
                        for name, value in config.headers.items()}

    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        if n.reason == "resolved" and not self.config.send_resolved:
            return Outcome.delivered(refs)
        body = payload(n)
        stamp = str(int(self.clock()))
        headers = {**self.headers, "Content-Type": "application/json", "User-Agent": "lakesentinel",
                   "Idempotency-Key": n.idempotency_key, "X-Lakesentinel-Timestamp": stamp}
        if self.secret is not None:
            headers["X-Lakesentinel-Signature"] = sign(self.secret, stamp, n.idempotency_key, body)
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
