"""Slack: one message per group episode, posted with Block Kit; re-notifications update that message
and reply in its thread; resolve does the same.

Every message posted carries the notification's idempotency key in its ``metadata`` (Slack's message
metadata), so after a crash :meth:`SlackReceiver.find_delivered` can look in the channel
(``conversations.history``) or the thread (``conversations.replies``) before posting again.
Rate limits (HTTP 429) come back as retryable outcomes with Slack's ``Retry-After``.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Mapping
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from lakesentinel.notify.config import SlackConfig
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.receiver import Outcome, classify_http, transport_error
from lakesentinel.actions.render import ack_hint, change_line, facts, headline, severity_badge

EVENT_TYPE = "lakesentinel_notification"
# Slack errors that a later attempt can get past; anything else (bad channel, bad token) will not.
_RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_GONE = {"message_not_found", "cant_update_message", "thread_not_found"}
_MAX_LISTED = 10
_MAX_PAGES = 10  # of 200 messages: how far back a busy channel is searched for a lost post  # incidents spelled out in one message; Block Kit allows 50 blocks


class SlackReceiver:
    def __init__(self, integration: str, config: SlackConfig, *, timeout: float = 10.0):
        self.integration = integration
        self.config = config
        # No retry handlers: the worker owns retries, and a silent client-side retry could post twice.
        self.client = WebClient(token=config.token.resolve(), base_url=config.base_url, timeout=int(max(1, timeout)),
                                retry_handlers=[])

    # ---- the protocol ------------------------------------------------------------------------
    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        if n.reason == "resolved" and not self.config.send_resolved:
            return Outcome.delivered(refs)
        try:
            if refs.get("ts"):
                try:
                    self.client.chat_update(channel=refs["channel"], ts=refs["ts"], text=headline(n), blocks=blocks(n))
                except SlackApiError as exc:
                    if exc.response.get("error") not in _GONE:
                        raise
                    refs = {}  # someone deleted the message: start a new one rather than dead-letter
                else:
                    self.client.chat_postMessage(channel=refs["channel"], thread_ts=refs["ts"], text=change_line(n),
                                                 metadata=self._metadata(n))
                    return Outcome.delivered(refs)
            resp = self.client.chat_postMessage(channel=self.config.channel, text=headline(n), blocks=blocks(n),
                                                metadata=self._metadata(n), unfurl_links=False)
            return Outcome.delivered({"channel": resp["channel"], "ts": resp["ts"]})
        except SlackApiError as exc:
            return self._api_error(exc)
        except (SlackRequestError, URLError, OSError) as exc:
            return transport_error(exc)

    def find_delivered(self, n: Notification, refs: Mapping[str, str]) -> Outcome | None:
        try:
            if not refs.get("ts"):
                # Nothing can have been posted before the notification existed (ten minutes of slack for clocks);
                # naive times are UTC, as everywhere in the lifecycle.
                created = n.created_at if n.created_at.tzinfo else n.created_at.replace(tzinfo=timezone.utc)
                oldest = f"{(created - timedelta(minutes=10)).timestamp():.6f}"
                hit = self._search(self.client.conversations_history, n.idempotency_key,
                                   channel=self.config.channel, oldest=oldest)
                return Outcome.delivered({"channel": hit.get("channel") or self.config.channel, "ts": hit["ts"]}) \
                    if hit else None
            hit = self._search(self.client.conversations_replies, n.idempotency_key, channel=refs["channel"], ts=refs["ts"])
            return Outcome.delivered(refs) if hit else None
        except SlackApiError as exc:
            outcome = self._api_error(exc)
            return outcome if outcome.status == "retryable" else None
        except (SlackRequestError, URLError, OSError) as exc:
            return transport_error(exc)

    # ---- helpers -----------------------------------------------------------------------------
    def _metadata(self, n: Notification) -> dict:
        return {"event_type": EVENT_TYPE,
                "event_payload": {"idempotency_key": n.idempotency_key, "group": n.group_hash, "episode": n.episode,
                                  "seq": n.seq, "reason": n.reason}}

    def _search(self, method, key: str, **args) -> dict | None:
        """Page through a history or thread (newest first) for the message carrying ``key``."""
        cursor = None
        for _ in range(_MAX_PAGES):
            resp = method(limit=200, include_all_metadata=True, **args, **({"cursor": cursor} if cursor else {}))
            hit = self._carrying_key(resp["messages"], key)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if hit or not cursor:
                return hit
        return None

    @staticmethod
    def _carrying_key(messages: list[dict], key: str) -> dict | None:
        for m in messages:
            payload = (m.get("metadata") or {}).get("event_payload") or {}
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE and payload.get("idempotency_key") == key:
                return m
        return None

    @staticmethod
    def _api_error(exc: SlackApiError) -> Outcome:
        resp = exc.response
        code = resp.get("error") if hasattr(resp, "get") else None
        status = getattr(resp, "status_code", 200)
        retry_after = (getattr(resp, "headers", None) or {}).get("Retry-After") or \
            (getattr(resp, "headers", None) or {}).get("retry-after")
        if status != 200:
            return classify_http(status, retry_after, f"slack {code or 'error'}")
        if code in _RETRYABLE_ERRORS:
            return Outcome.retryable(f"slack {code}")
        return Outcome.permanent(f"slack {code or exc}")


def blocks(n: Notification) -> list[dict]:
    """The message: a header, what happened, the facts of the lead incident, the others listed, how to act."""
    pool = n.firing or n.incidents
    lead = pool[0] if len(pool) == 1 else max(pool, key=lambda i: ("info", "low", "medium", "high", "critical").index(i.severity))
    out: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(n)[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"{severity_badge(lead.severity)} *{_escape(lead.title)}*\n"
                                             f"{_escape(lead.summary)[:2500] or '_no summary_'}"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_escape(v)}"} for k, v in facts(lead)[:10]]},
    ]
    others = [i for i in n.incidents if i is not lead]
    if others:
        lines = [f"- {'~' if i.status == 'resolved' else ''}{_escape(i.title)}{'~' if i.status == 'resolved' else ''}"
                 f" ({i.severity}, {i.entity_id or i.workspace_id or '-'}, {i.alert_count} alert(s))"
                 for i in others[:_MAX_LISTED]]
        if len(others) > _MAX_LISTED:
            lines.append(f"...and {len(others) - _MAX_LISTED} more")
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Also in this group*\n" + "\n".join(lines)}})
    if lead.runbook_url:
        out.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Runbook"},
                                                     "url": lead.runbook_url}]})
    hint = "" if n.status == "resolved" else f" · acknowledge: `{ack_hint(lead)}`"
    out.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                 "text": f"incident `{lead.incident_id}` · route `{n.route_id}`{hint}"}]})
    return out


def _escape(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
