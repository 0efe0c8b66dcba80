"""A fake Databricks workspace for the SQL endpoints databricks-sdk calls: queries and (legacy-API)
alerts, create, list and delete (trash), with the SDK's error shape ``{"error_code", "message"}``."""

from __future__ import annotations

import itertools
import re
import uuid

from tests.fakes.server import FakeServer, Reply, Request

_CODES = {400: "INVALID_PARAMETER_VALUE", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST",
          429: "TOO_MANY_REQUESTS", 500: "INTERNAL_ERROR", 503: "TEMPORARILY_UNAVAILABLE"}


class FakeDatabricks(FakeServer):
    def __init__(self, token: str = "dapi-fake-token-0123"):
        super().__init__()
        self.token = token
        self.queries: dict[str, dict] = {}
        self.alerts: dict[str, dict] = {}
        self._clock = itertools.count(1)

    def error_body(self, status: int) -> dict:
        return {"error_code": _CODES.get(status, "UNKNOWN"), "message": f"fake databricks: http {status}"}

    def handle(self, req: Request) -> Reply:
        if req.path.startswith("/.well-known/"):  # the SDK's discovery probe: not offered, as on many hosts
            return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "Not found"})
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."})
        m = re.match(r"^/api/2\.0/sql/(queries|alerts)(?:/([^/]+))?$", req.path)
        if not m:
            return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{req.method} {req.path}'"})
        kind, ident = m.group(1), m.group(2)
        store = self.queries if kind == "queries" else self.alerts
        if req.method == "POST" and ident is None:
            body = req.json().get("query" if kind == "queries" else "alert") or {}
            return self._create(kind, store, body)
        if req.method == "GET" and ident is None:
            live = [o for o in store.values() if o["lifecycle_state"] == "ACTIVE"]
            return Reply(200, {"results": live})
        if ident not in store:
            return Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"{kind[:-1]} {ident} not found"})
        if req.method == "GET":
            return Reply(200, store[ident])
        if req.method == "DELETE":
            store[ident]["lifecycle_state"] = "TRASHED"
            return Reply(200, {})
        return Reply(405, {"error_code": "BAD_REQUEST", "message": "method not allowed"})

    def _create(self, kind: str, store: dict, body: dict) -> Reply:
        if not body.get("display_name"):
            return Reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "display_name is required"})
        if kind == "queries" and not body.get("query_text"):
            return Reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "query_text is required"})
        if kind == "alerts" and body.get("query_id") not in self.queries:
            return Reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "query_id does not exist"})
        now = f"2026-03-02T09:00:{next(self._clock) % 60:02d}Z"
        obj = {**body, "id": str(uuid.uuid4()), "create_time": now, "update_time": now, "lifecycle_state": "ACTIVE",
               "owner_user_name": "lakesentinel@example.com"}
        if kind == "alerts":
            obj["state"] = "UNKNOWN"
        store[obj["id"]] = obj
        return Reply(200, obj)

    def active(self, kind: str) -> list[dict]:
        store = self.queries if kind == "queries" else self.alerts
        return [o for o in store.values() if o["lifecycle_state"] == "ACTIVE"]


class FakeSecrets(FakeServer):
    """The workspace secrets API (``GET /api/2.0/secrets/get``): values base64, errors as Databricks sends them."""

    def __init__(self, secrets: dict[tuple[str, str], str], token: str = "dapi-fake-token-0123"):
        super().__init__()
        self.secrets, self.token = dict(secrets), token

    def error_body(self, status: int) -> dict:
        return {"error_code": _CODES.get(status, "UNKNOWN"), "message": f"fake databricks: http {status}"}

    def handle(self, req: Request) -> Reply:
        import base64

        if req.path.startswith("/.well-known/"):
            return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "Not found"})
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."})
        if req.method != "GET" or req.path != "/api/2.0/secrets/get":
            return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{req.method} {req.path}'"})
        scope, key = req.query.get("scope", [""])[0], req.query.get("key", [""])[0]
        if not any(s == scope for s, _ in self.secrets):
            return Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Scope {scope} does not exist!"})
        if (scope, key) not in self.secrets:
            return Reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                               "message": f"Failed to get secret {key} for scope {scope}."})
        value = base64.b64encode(self.secrets[(scope, key)].encode()).decode()
        return Reply(200, {"key": key, "value": value})
