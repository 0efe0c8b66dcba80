"""A local webhook receiver for the demo: checks each notification's HMAC signature and keeps it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    at: float  # wall-clock seconds
    payload: dict
    signed: bool


@dataclass
class WebhookReceiver:
    secret: str
    received: list[Received] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stamp = self.headers.get("X-Lakesentinel-Timestamp", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(), stamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-Lakesentinel-Signature", ""))
                key = self.headers.get("Idempotency-Key", "")
                if key not in receiver._keys:  # a re-sent notification is acknowledged, not kept twice
                    receiver._keys.add(key)
                    receiver.received.append(Received(time.time(), json.loads(body or b"{}"), signed))
                self.send_response(200 if signed else 401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/lakesentinel"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
