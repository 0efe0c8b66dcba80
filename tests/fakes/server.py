"""The shared part of every fake: a threaded HTTP server on 127.0.0.1, a request log, and faults.

A fault applies to the next ``times`` requests whose path contains ``path`` (any path when empty):
``status`` answers with that HTTP status (and ``Retry-After`` for 429), ``hang`` holds the request
before it is handled (the receiver sees a timeout and nothing happened), and ``hang_after`` handles it
first and then holds the reply (the effect happened but the client never hears of it: the case a
crash-safe deliverer must detect).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    path: str = ""
    method: str | None = None
    status: int | None = None
    retry_after: int | None = None
    hang: float = 0.0
    hang_after: float = 0.0
    times: int = 1
    body: dict | None = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        """Slack clients send form-encoded or JSON bodies; both as one flat dict."""
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            return self.json()
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Subclasses implement ``handle(request) -> Reply``; the base does transport, faults and the log."""

    def __init__(self):
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.release = threading.Event()  # set to let held requests go
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlparse(self.path)
                req = Request(self.command, url.path, parse_qs(url.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                reply = fake._dispatch(req)
                if reply is None:  # connection dropped on purpose
                    self.close_connection = True
                    return
                payload = reply.body if isinstance(reply.body, (bytes, str)) else json.dumps(reply.body or {})
                data = payload.encode() if isinstance(payload, str) else payload
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ---- life --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- faults ------------------------------------------------------------------------------
    def fail(self, status: int, *, times: int = 1, path: str = "", method: str | None = None,
             retry_after: int | None = None, body: dict | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(path=path, method=method, status=status, retry_after=retry_after, times=times,
                                     body=body))

    def hang(self, seconds: float, *, times: int = 1, path: str = "", method: str | None = None,
             after_handling: bool = False) -> None:
        """Hold matching requests for ``seconds`` (or until :meth:`clear_faults`)."""
        with self.lock:
            self.release.clear()
            self.faults.append(Fault(path=path, method=method, times=times,
                                     **({"hang_after": seconds} if after_handling else {"hang": seconds})))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
        self.release.set()

    def _take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.times > 0 and f.path in req.path and f.method in (None, req.method):
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                    return f
        return None

    def _dispatch(self, req: Request) -> Reply | None:
        with self.lock:
            self.requests.append(req)
        fault = self._take_fault(req)
        if fault and fault.hang:
            self.release.wait(fault.hang)
            return None
        if fault and fault.status:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return Reply(fault.status, fault.body if fault.body is not None else self.error_body(fault.status), headers)
        with self.lock:
            reply = self.handle(req)
        if fault and fault.hang_after:
            self.release.wait(fault.hang_after)
            return None
        return reply

    # ---- for subclasses ----------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int) -> dict:
        return {"error": f"http {status}"}

    def calls(self, path_part: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if path_part in r.path and (method is None or r.method == method)]
