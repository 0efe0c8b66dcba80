"""Jira: one issue per group episode, found before it is created, commented on while it fires,
transitioned when it resolves.

The issue carries labels ``lakesentinel-g-<group hash>`` and ``lakesentinel-fp-<fingerprint>`` for each
incident, so a JQL search finds an open issue for the same signal (after a crash, or when an earlier
issue is still open) instead of opening a duplicate. Comments carry ``[lakesentinel:<idempotency key>]``
so a re-sent comment is recognised. Priority comes from severity through ``priorities``.
"""

from __future__ import annotations

from typing import Mapping

import requests
from jira import JIRA, JIRAError

from lakesentinel.notify.config import JiraConfig
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.receiver import Outcome, classify_http, transport_error
from lakesentinel.actions.render import ack_hint, change_line, facts, headline
from lakesentinel.logs import register_basic_auth


def group_label(n: Notification) -> str:
    return f"lakesentinel-g-{n.group_hash}"


def fingerprint_label(fingerprint: str) -> str:
    return f"lakesentinel-fp-{fingerprint}"


def marker(n: Notification) -> str:
    return f"[lakesentinel:{n.idempotency_key}]"


class JiraReceiver:
    def __init__(self, integration: str, config: JiraConfig, *, timeout: float = 10.0):
        self.integration = integration
        self.config = config
        self.timeout = timeout
        if config.token is not None:
            self._auth = {"token_auth": config.token.resolve()}
        else:
            token = config.api_token.resolve()
            self._auth = {"basic_auth": (config.email, token)}
            # The header carries base64("email:token"): mask that form too, wherever an error quotes it.
            register_basic_auth(config.email, token)
        self._client: JIRA | None = None

    @property
    def client(self) -> JIRA:
        # Connecting asks the server for its version; done on first use so that a Jira outage never
        # stops the worker from starting (or other receivers from delivering).
        if self._client is None:
            self._client = JIRA(server=self.config.server, timeout=self.timeout, max_retries=0, **self._auth)
        return self._client

    # ---- the protocol ------------------------------------------------------------------------
    def notify(self, n: Notification, refs: Mapping[str, str]) -> Outcome:
        if n.reason == "resolved" and not self.config.send_resolved:
            return Outcome.delivered(refs)
        try:
            key = refs.get("key")
            if key:
                try:
                    return self._follow_up(n, key)
                except JIRAError as exc:
                    if exc.status_code != 404:
                        raise
                    # The issue was deleted (or moved out of reach): fall through to find or open another.
            existing = self._open_issue(n)
            if existing is None:
                issue = self.client.create_issue(fields=self._fields(n))
                return Outcome.delivered({"key": issue.key})
            return self._follow_up(n, existing)
        except JIRAError as exc:
            return _jira_error(exc)
        except requests.RequestException as exc:
            return transport_error(exc)

    def find_delivered(self, n: Notification, refs: Mapping[str, str]) -> Outcome | None:
        try:
            key = refs.get("key")
            if not key:
                existing = self._open_issue(n)
                return Outcome.delivered({"key": existing}) if existing else None
            comments = self.client.comments(key)
            if not any(marker(n) in (c.body or "") for c in comments):
                return None
            if n.reason == "resolved" and self._is_open(key):
                self._close(key)  # the comment went out, the transition did not
            return Outcome.delivered({"key": key})
        except JIRAError as exc:
            outcome = _jira_error(exc)
            return outcome if outcome.status == "retryable" else None
        except requests.RequestException as exc:
            return transport_error(exc)

    # ---- helpers -----------------------------------------------------------------------------
    def _follow_up(self, n: Notification, key: str) -> Outcome:
        self.client.add_comment(key, f"{marker(n)} {change_line(n)}\n\n{_description(n)}")
        if n.reason == "resolved":
            self._close(key)
        return Outcome.delivered({"key": key})

    def _open_issue(self, n: Notification) -> str | None:
        labels = [group_label(n)] + [fingerprint_label(i.fingerprint) for i in (n.firing or n.incidents)]
        jql = (f'project = "{self.config.project}" AND labels in ({", ".join(_quote(l) for l in labels)}) '
               f"AND statusCategory != Done ORDER BY created DESC")
        found = self.client.search_issues(jql, maxResults=1, fields=["status", "labels"])
        return found[0].key if found else None

    def _is_open(self, key: str) -> bool:
        issue = self.client.issue(key, fields="status")
        return issue.fields.status.statusCategory.key != "done"

    def _close(self, key: str) -> None:
        wanted = self.config.resolve_transition.lower()
        for t in self.client.transitions(key):
            if t["name"].lower() == wanted:
                self.client.transition_issue(key, t["id"])
                return
        # No such transition from the current status: already closed, or a workflow without it.

    def _fields(self, n: Notification) -> dict:
        fields = {"project": {"key": self.config.project}, "issuetype": {"name": self.config.issue_type},
                  "summary": headline(n)[:250], "description": _description(n),
                  "labels": list(dict.fromkeys([*self.config.labels, "lakesentinel", group_label(n),
                                                *(fingerprint_label(i.fingerprint) for i in n.incidents)]))}
        priority = self.config.priorities.get(n.severity)
        if priority:
            fields["priority"] = {"name": priority}
        return fields


def _description(n: Notification) -> str:
    """Jira wiki markup (REST v2): a table of facts per incident, the runbook, how to acknowledge."""
    parts = []
    for i in n.incidents:
        rows = "\n".join(f"||{k}|{v.replace('|', '/')}|" for k, v in facts(i))
        runbook = f"\nRunbook: [{i.runbook_url}]" if i.runbook_url else ""
        ack = f"\nAcknowledge: {{{{{ack_hint(i)}}}}}" if i.status != "resolved" else ""
        parts.append(f"h3. {i.title}\n{i.summary}\n{rows}{runbook}{ack}\nIncident {{{{{i.incident_id}}}}}")
    return "\n\n".join(parts)


def _quote(label: str) -> str:
    return '"' + label.replace('"', "") + '"'


def _jira_error(exc: JIRAError) -> Outcome:
    status = exc.status_code or 0
    headers = getattr(exc.response, "headers", None) or {}
    if not status:  # str(exc) would quote the request headers, Authorization included
        return Outcome.retryable(f"jira: {exc.text or 'no response'}")
    return classify_http(status, headers.get("Retry-After"), f"jira {exc.text or ''}".strip())
