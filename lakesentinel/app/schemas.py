"""Request and response bodies of the app's API: what ``openapi.json`` publishes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer

Domain = Literal["cost", "security", "performance", "reliability"]
Status = Literal["open", "acknowledged", "silenced", "resolved"]
Row = dict[str, Any]


def _utc(value: datetime) -> str:
    """The lakehouse holds naive UTC: say so (RFC 3339, as the contract's date-time promises)."""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[datetime, PlainSerializer(_utc, return_type=str)]


class Problem(BaseModel):
    detail: str


class Meta(BaseModel):
    environment: str
    query_layer: Literal["spark", "warehouse"]
    refresh_s: float
    user: str
    copilot_configured: bool
    now: UtcDatetime


class DomainHealth(BaseModel):
    domain: Domain
    score: int = Field(ge=0, le=100)
    active_incidents: int
    status: Literal["healthy", "degraded", "unhealthy"]


class SpendDay(BaseModel):
    date_key: int
    list_cost: float
    budget: float


class Spend(BaseModel):
    days: list[SpendDay]
    latest: SpendDay | None
    period_list_cost: float = 0.0
    period_budget: float = 0.0


class Freshness(BaseModel):
    stream: str
    kind: str
    source: str | None
    last_seen_at: UtcDatetime | None
    last_data_at: UtcDatetime | None
    age_seconds: float | None
    status: Literal["live", "idle", "failed", "never"]
    error: str | None


class IncidentSummary(BaseModel):
    incident_id: str
    status: Status
    muted_by: str | None = None
    severity: str
    domain: str
    rule_id: str
    title: str
    summary: str | None = None
    workspace_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    opened_at: UtcDatetime | None = None
    last_alert_at: UtcDatetime | None = None
    alert_count: int | None = None
    acknowledged_by: str | None = None
    acknowledged_at: UtcDatetime | None = None
    resolved_by: str | None = None
    resolved_at: UtcDatetime | None = None
    cost_impact: float | None = None
    runbook_url: str | None = None
    labels: dict[str, str] | None = None
    owner: str | None = None
    age_seconds: float | None = None


class Overview(BaseModel):
    health: list[DomainHealth]
    open_incidents: list[IncidentSummary]
    incident_counts: dict[str, int]
    spend: Spend
    freshness: list[Freshness]


class Series(BaseModel):
    title: str
    unit: str
    x: str
    lines: list[str]
    points: list[Row]


class TopTable(BaseModel):
    title: str
    columns: list[str]
    rows: list[Row]


class DomainPage(BaseModel):
    domain: Domain
    gold_ready: bool
    series: list[Series]
    tables: list[TopTable]
    incidents: list[IncidentSummary]


class TimelineEvent(BaseModel):
    at: UtcDatetime
    kind: str
    text: str


class IncidentDetail(BaseModel):
    incident: Row
    alerts: list[Row]
    linked_facts: dict[str, list[Row]]
    timeline: list[TimelineEvent]


class TrendDay(BaseModel):
    date_key: int
    incidents: int
    mtta_s: float | None
    mttr_s: float | None


class CommandBody(BaseModel):
    note: str = Field("", max_length=2000)


class CommandResult(BaseModel):
    command_id: str
    action: Literal["ack", "resolve"]
    incident_id: str
    by: str


class RenotifyResult(BaseModel):
    incident_id: str
    requeued: list[str]


class MatchersBody(BaseModel):
    matchers: list[str] = Field(min_length=1, max_length=20)


class SilenceBody(MatchersBody):
    duration: str = Field("2h", max_length=20, description="How long, e.g. 30m, 2h, 1d")
    comment: str = Field(min_length=1, max_length=2000)


class PreviewHit(BaseModel):
    incident_id: str
    title: str
    severity: str
    status: str


class SilenceOut(BaseModel):
    silence_id: str
    state: Literal["active", "pending", "expired"]
    matchers: list[str]
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    created_by: str
    comment: str
    source: str


class ChatBody(BaseModel):
    message: str = Field(min_length=1, max_length=4000)


class ChatAnswer(BaseModel):
    configured: bool
    answer: str | None
