"""Incidents: one per episode of a signal (fingerprint), from its first alert until it is resolved.

``plt_gold.fact_incident`` holds one row per incident and is maintained by the lifecycle alone (MERGE
on ``incident_id``); acknowledgements and manual resolutions reach it as commands. Timers work in
processing time (when lakesentinel received an alert); ``first_seen``/``last_seen`` are event time (the
alert windows), which is what a review wants to read.

Status: ``open`` → ``acknowledged`` → ``resolved``; ``silenced`` while a silence or an inhibiting
incident mutes it (``muted_by`` says which), after which it returns to open or acknowledged.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from lakesentinel.alerts.record import Alert
from lakesentinel.severity import severity_rank  # noqa: F401 - callers import it from here
from lakesentinel.sources.types import parse_columns

Status = Literal["open", "acknowledged", "resolved", "silenced"]
ACTIVE: tuple[str, ...] = ("open", "acknowledged", "silenced")

FACT_INCIDENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("incident_id", "string"),
    ("fingerprint", "string"),
    ("status", "string"),  # open | acknowledged | resolved | silenced
    ("muted_by", "string"),  # "silence:<id>" or "inhibited:<incident_id>" while silenced
    ("kind", "string"),
    ("rule_id", "string"),
    ("rule_version", "string"),
    ("domain", "string"),
    ("severity", "string"),  # highest severity seen in the episode
    ("title", "string"),
    ("summary", "string"),
    ("workspace_id", "string"),
    ("entity_type", "string"),
    ("entity_id", "string"),
    ("labels", "map<string,string>"),
    ("routes", "array<string>"),
    ("group_keys", "array<string>"),
    ("receivers", "array<string>"),
    ("first_seen", "timestamp"),  # event time: earliest window_start
    ("last_seen", "timestamp"),  # event time: latest window_end
    ("opened_at", "timestamp"),  # processing time of the first alert
    ("last_alert_at", "timestamp"),  # processing time of the latest alert
    ("alert_count", "bigint"),
    ("last_alert_id", "string"),
    ("max_score", "double"),
    ("last_observed", "double"),
    ("last_expected", "double"),
    ("cost_impact", "decimal(38,18)"),  # sum over the episode's alerts, where known
    ("first_notified_at", "timestamp"),
    ("acknowledged_at", "timestamp"),
    ("acknowledged_by", "string"),
    ("resolved_at", "timestamp"),
    ("resolved_by", "string"),
    ("resolution", "string"),
    ("time_to_acknowledge_s", "double"),
    ("time_to_resolve_s", "double"),
    ("jira_key", "string"),
    ("slack_channel", "string"),
    ("slack_ts", "string"),
    ("sql_alert_id", "string"),
    ("external_refs", "map<string,string>"),  # "<receiver>/<type>.<ref>" -> value, every integration
    ("runbook_url", "string"),
    ("updated_at", "timestamp"),
    ("date_key", "int"),  # YYYYMMDD of opened_at
)
FACT_INCIDENT_SCHEMA = parse_columns(list(FACT_INCIDENT_COLUMNS))

AUTO = "lakesentinel"  # resolved_by when the signal stopped


def incident_id(fingerprint: str, first_alert_id: str) -> str:
    """Stable across replays: the fingerprint and the alert that opened the episode."""
    return hashlib.sha256(f"{fingerprint}|{first_alert_id}".encode()).hexdigest()[:24]


class Incident(BaseModel):
    incident_id: str
    fingerprint: str
    status: Status = "open"
    muted_by: str | None = None
    kind: str
    rule_id: str
    rule_version: str
    domain: str
    severity: str
    title: str
    summary: str = ""
    workspace_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    routes: list[str] = Field(default_factory=list)
    group_keys: list[str] = Field(default_factory=list)
    receivers: list[str] = Field(default_factory=list)
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime
    last_alert_at: datetime
    alert_count: int = 0
    last_alert_id: str
    recent_alert_ids: list[str] = Field(default_factory=list)  # replay guard, not in the fact table
    max_score: float | None = None
    last_observed: float | None = None
    last_expected: float | None = None
    cost_impact: Decimal | None = None
    first_notified_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    external_refs: dict[str, str] = Field(default_factory=dict)
    runbook_url: str | None = None
    resolve_timeout_s: float = 3600.0
    updated_at: datetime

    # ---- behaviour ----------------------------------------------------------------------------
    @classmethod
    def open(cls, alert: Alert, labels: dict[str, str], now: datetime, resolve_timeout_s: float) -> "Incident":
        inc = cls(incident_id=incident_id(alert.fingerprint, alert.alert_id), fingerprint=alert.fingerprint,
                  kind=alert.kind, rule_id=alert.rule_id, rule_version=alert.rule_version, domain=alert.domain,
                  severity=alert.severity, title=alert.title, summary=alert.summary,
                  workspace_id=alert.workspace_id, entity_type=alert.entity_type, entity_id=alert.entity_id,
                  labels=labels, first_seen=alert.window_start, last_seen=alert.window_end, opened_at=now,
                  last_alert_at=now, last_alert_id=alert.alert_id, runbook_url=alert.runbook_url,
                  resolve_timeout_s=resolve_timeout_s, updated_at=now)
        inc.observe(alert, labels, now)
        return inc

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def firing(self) -> bool:
        """Active and not muted: what notifications show as firing."""
        return self.status in ("open", "acknowledged")

    def observe(self, alert: Alert, labels: dict[str, str], now: datetime) -> bool:
        """Count one more alert of this signal; False when it was seen already (a replayed batch)."""
        if alert.alert_id in self.recent_alert_ids:
            return False
        self.recent_alert_ids = (self.recent_alert_ids + [alert.alert_id])[-32:]
        self.alert_count += 1
        self.last_alert_at = max(self.last_alert_at, now)
        self.last_alert_id = alert.alert_id
        self.first_seen = min(self.first_seen, alert.window_start)
        self.last_seen = max(self.last_seen, alert.window_end)
        if severity_rank(alert.severity) > severity_rank(self.severity):
            self.severity = alert.severity
        self.title, self.summary, self.labels = alert.title, alert.summary or self.summary, labels
        self.rule_version = alert.rule_version
        if alert.score is not None:
            self.max_score = max(self.max_score or alert.score, alert.score)
        self.last_observed, self.last_expected = alert.observed, alert.expected
        if alert.cost_impact is not None:
            self.cost_impact = (self.cost_impact or Decimal(0)) + alert.cost_impact
        self.runbook_url = alert.runbook_url or self.runbook_url
        self.updated_at = now
        return True

    def acknowledge(self, by: str, now: datetime) -> None:
        self.acknowledged_at, self.acknowledged_by = now, by
        if self.status == "open":
            self.status = "acknowledged"
        self.updated_at = now

    def resolve(self, by: str, now: datetime, resolution: str) -> None:
        self.status, self.muted_by = "resolved", None
        self.resolved_at, self.resolved_by, self.resolution = now, by, resolution
        self.updated_at = now

    def mute(self, muted_by: str | None, now: datetime) -> bool:
        """Set or clear the mute; True when the status changed."""
        if not self.active or muted_by == self.muted_by:
            return False
        self.muted_by = muted_by
        self.status = "silenced" if muted_by else ("acknowledged" if self.acknowledged_at else "open")
        self.updated_at = now
        return True

    def add_refs(self, refs: dict[str, str], delivered_at: datetime) -> None:
        self.external_refs = {**self.external_refs, **refs}
        if self.first_notified_at is None or delivered_at < self.first_notified_at:
            self.first_notified_at = delivered_at

    # ---- the fact row -------------------------------------------------------------------------
    def fact_row(self) -> dict:
        def seconds(end: datetime | None) -> float | None:
            return None if end is None else round((end - self.opened_at).total_seconds(), 3)

        def first_ref(suffix: str) -> str | None:
            return next((v for k, v in sorted(self.external_refs.items()) if k.endswith(suffix)), None)

        row = self.model_dump(exclude={"recent_alert_ids", "resolve_timeout_s"})
        row.update(
            time_to_acknowledge_s=seconds(self.acknowledged_at),
            time_to_resolve_s=seconds(self.resolved_at),
            jira_key=first_ref("/jira.key"),
            slack_channel=first_ref("/slack.channel"),
            slack_ts=first_ref("/slack.ts"),
            sql_alert_id=first_ref("/sql_alert.alert_id"),
            date_key=int(self.opened_at.strftime("%Y%m%d")),
        )
        return {name: row.get(name) for name, _ in FACT_INCIDENT_COLUMNS}

    @classmethod
    def from_fact_row(cls, row: dict) -> "Incident":
        fields = {k: v for k, v in row.items() if k in cls.model_fields and v is not None}
        return cls.model_validate(fields)
