"""A fake Slack Web API: chat.postMessage, chat.update, conversations.history and conversations.replies.

Shapes follow api.slack.com: HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, HTTP 429 with
``Retry-After`` for rate limits, ``metadata`` returned only with ``include_all_metadata``. Channels may be
addressed by name (``#alerts``) or id; ``messages`` holds every top-level message and reply posted.
"""

from __future__ import annotations

import hashlib
import itertools
import time

from tests.fakes.server import FakeServer, Reply, Request


class FakeSlack(FakeServer):
    def __init__(self, token: str = "xoxb-fake-token"):
        super().__init__()
        self.token = token
        self.messages: list[dict] = []  # {"channel", "ts", "thread_ts", "text", "blocks", "metadata", "edits"}
        self._ts = itertools.count(1)

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @staticmethod
    def channel_id(channel: str) -> str:
        if channel.startswith("C") and not channel.startswith("#"):
            return channel
        return "C" + hashlib.sha1(channel.lstrip("#").encode()).hexdigest()[:8].upper()

    def error_body(self, status: int) -> dict:
        return {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}

    def handle(self, req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        method = req.path.rsplit("/", 1)[-1]
        args = {**{k: v[0] for k, v in req.query.items()}, **req.form()}
        handler = {"chat.postMessage": self._post, "chat.update": self._update,
                   "conversations.history": self._history, "conversations.replies": self._replies}.get(method)
        if handler is None:
            return Reply(200, {"ok": False, "error": "unknown_method"})
        return Reply(200, handler(args))

    # ---- methods -----------------------------------------------------------------------------
    def _post(self, a: dict) -> dict:
        if not a.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not (a.get("text") or a.get("blocks")):
            return {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"  # unique, and ordered like Slack's
        msg = {"type": "message", "channel": self.channel_id(a["channel"]), "ts": ts, "text": a.get("text", ""),
               "blocks": _maybe_json(a.get("blocks")), "thread_ts": a.get("thread_ts"),
               "metadata": _maybe_json(a.get("metadata")), "edits": 0}
        if msg["thread_ts"] and not self._find(msg["channel"], msg["thread_ts"]):
            return {"ok": False, "error": "thread_not_found"}
        self.messages.append(msg)
        return {"ok": True, "channel": msg["channel"], "ts": ts, "message": self._public(msg, True)}

    def _update(self, a: dict) -> dict:
        msg = self._find(self.channel_id(a.get("channel", "")), a.get("ts"))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        msg["text"] = a.get("text", msg["text"])
        if a.get("blocks") is not None:
            msg["blocks"] = _maybe_json(a["blocks"])
        msg["edits"] += 1
        return {"ok": True, "channel": msg["channel"], "ts": msg["ts"], "text": msg["text"],
                "message": self._public(msg, True)}

    def _history(self, a: dict) -> dict:
        channel = self.channel_id(a.get("channel", ""))
        meta = str(a.get("include_all_metadata", "")).lower() in ("1", "true")
        oldest = float(a.get("oldest") or 0)
        found = [self._public(m, meta) for m in reversed(self.messages)
                 if m["channel"] == channel and not m["thread_ts"] and float(m["ts"]) >= oldest]
        limit = int(a.get("limit") or 100)
        start = int(a.get("cursor") or 0)
        page, rest = found[start:start + limit], found[start + limit:]
        return {"ok": True, "messages": page, "has_more": bool(rest),
                "response_metadata": {"next_cursor": str(start + limit) if rest else ""}}

    def _replies(self, a: dict) -> dict:
        channel = self.channel_id(a.get("channel", ""))
        parent = self._find(channel, a.get("ts"))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        meta = str(a.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = [parent] + [m for m in self.messages if m["channel"] == channel and m["thread_ts"] == parent["ts"]]
        return {"ok": True, "messages": [self._public(m, meta) for m in thread], "has_more": False,
                "response_metadata": {"next_cursor": ""}}

    # ---- helpers -----------------------------------------------------------------------------
    def _find(self, channel: str, ts: str | None) -> dict | None:
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    @staticmethod
    def _public(m: dict, with_metadata: bool) -> dict:
        out = {"type": "message", "ts": m["ts"], "text": m["text"], "blocks": m["blocks"] or []}
        if m["thread_ts"]:
            out["thread_ts"] = m["thread_ts"]
        if with_metadata and m["metadata"]:
            out["metadata"] = m["metadata"]
        return out

    def top_level(self) -> list[dict]:
        return [m for m in self.messages if not m["thread_ts"]]

    def replies_to(self, ts: str) -> list[dict]:
        return [m for m in self.messages if m["thread_ts"] == ts]


def _maybe_json(value):
    import json

    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
