"""A fake webhook receiver that checks the HMAC-SHA256 signature (over timestamp, idempotency key and
body, written out here from the documented scheme rather than imported) and, when given a tolerance,
the timestamp's age, and dedupes on ``Idempotency-Key``, as a well-behaved receiver does; ``accepted``
holds one entry per distinct key, ``requests`` every call."""

from __future__ import annotations

import hashlib
import hmac
import time

from tests.fakes.server import FakeServer, Reply, Request


class FakeWebhook(FakeServer):
    def __init__(self, secret: str | None = None, tolerance_s: float | None = None):
        super().__init__()
        self.secret = secret
        self.tolerance_s = tolerance_s
        self.accepted: dict[str, dict] = {}
        self.duplicates = 0

    def handle(self, req: Request) -> Reply:
        if req.method != "POST":
            return Reply(405, {"error": "method not allowed"})
        if self.secret is not None:
            stamp = req.headers.get("x-lakesentinel-timestamp", "")
            message = f"{stamp}.{req.headers.get('idempotency-key', '')}.".encode() + req.body
            want = "sha256=" + hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, req.headers.get("x-lakesentinel-signature", "")):
                return Reply(401, {"error": "bad signature"})
            if self.tolerance_s is not None and not (stamp.isdigit() and abs(time.time() - int(stamp)) <= self.tolerance_s):
                return Reply(401, {"error": "stale timestamp"})
        key = req.headers.get("idempotency-key")
        if not key:
            return Reply(400, {"error": "Idempotency-Key header required"})
        if key in self.accepted:
            self.duplicates += 1
            return Reply(200, {"status": "duplicate"})
        self.accepted[key] = req.json()
        return Reply(202, {"status": "accepted"})
