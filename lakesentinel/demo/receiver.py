"""A local webhook receiver for the demo: verifies each request (HMAC signature over timestamp,
idempotency key and body; the timestamp no older than the tolerance) before it records anything, then
keeps each notification once (dedupe on ``Idempotency-Key``)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lakesentinel.actions.webhook import DEFAULT_TOLERANCE_S, verify


@dataclass
class Received:
    at: float  # wall-clock seconds
    payload: dict
    signed: bool  # always True: an unsigned or forged request is refused, never recorded


@dataclass
class WebhookReceiver:
    secret: str
    tolerance_s: float = DEFAULT_TOLERANCE_S
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    _keys: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                why = verify(receiver.secret, self.headers.get("X-Lakesentinel-Timestamp", ""), key, body,
                             self.headers.get("X-Lakesentinel-Signature", ""), now=time.time(),
                             tolerance_s=receiver.tolerance_s)
                if why is None and not key:
                    why = "no Idempotency-Key"
                with receiver._lock:
                    if why is not None:
                        receiver.refused.append(why)
                    elif key not in receiver._keys:  # a re-sent notification is acknowledged, not kept twice
                        receiver._keys.add(key)
                        receiver.received.append(Received(time.time(), json.loads(body or b"{}"), True))
                self.send_response(401 if why else 200)
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
