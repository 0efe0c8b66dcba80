"""The alert record: one row per firing signal, emitted alike by rules and detectors.

``plt_ops.alerts`` holds these rows. ``fingerprint`` identifies the signal (rule or detector id plus the
values of its group key) across time; ``alert_id`` identifies one firing of it (fingerprint plus
window), so that a micro-batch replayed after a crash produces the same ids and MERGE keeps one row.

>>> fingerprint("security.failed_logins", {"user": "a@x.com", "workspace_id": "1"})
'ac91e39035b3b1f9'
>>> fingerprint("security.failed_logins", {"workspace_id": "1", "user": "a@x.com"})
'ac91e39035b3b1f9'
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakesentinel.sources.types import parse_columns
from lakesentinel.severity import SEVERITIES  # noqa: F401 - part of the alert record's contract

Kind = Literal["rule", "detector"]
Severity = Literal["info", "low", "medium", "high", "critical"]
DOMAINS: tuple[str, ...] = ("cost", "security", "query", "reliability", "platform")

ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("alert_id", "string"),
    ("fingerprint", "string"),
    ("kind", "string"),  # rule | detector
    ("rule_id", "string"),  # rule or detector id
    ("rule_version", "string"),
    ("domain", "string"),
    ("severity", "string"),
    ("title", "string"),
    ("summary", "string"),
    ("workspace_id", "string"),
    ("entity_type", "string"),
    ("entity_id", "string"),
    ("window_start", "timestamp"),
    ("window_end", "timestamp"),
    ("observed", "double"),
    ("expected", "double"),  # expected value (detectors) or threshold (rules)
    ("score", "double"),  # 0..1 for detectors; 1.0 for rules
    ("evidence", "map<string,array<string>>"),  # source-row keys: {"event_id": [...], "record_id": [...]}
    ("labels", "map<string,string>"),  # routing labels; "cold_start" = "true" for unwarmed detectors
    ("runbook_url", "string"),
    ("cost_impact", "decimal(38,18)"),  # list cost attributable to the signal, where known
    ("detected_at", "timestamp"),
    ("source_committed_at", "timestamp"),  # commit time of the newest source row behind the alert
    ("date_key", "int"),  # YYYYMMDD of window_end
)
ALERT_SCHEMA: T.StructType = parse_columns(list(ALERT_COLUMNS))


class Alert(BaseModel):
    """The same record in Python (tests, receivers, the lifecycle's timelines)."""

    alert_id: str
    fingerprint: str
    kind: Kind
    rule_id: str
    rule_version: str
    domain: str
    severity: Severity
    title: str
    summary: str = ""
    workspace_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    window_start: datetime
    window_end: datetime
    observed: float | None = None
    expected: float | None = None
    score: float | None = None
    evidence: dict[str, list[str]] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    runbook_url: str | None = None
    cost_impact: Decimal | None = None
    detected_at: datetime
    source_committed_at: datetime | None = None
    date_key: int


def fingerprint(rule_id: str, group: dict[str, str | None]) -> str:
    """Stable id of a signal: the rule or detector id and its group-key values, order-free."""
    text = "|".join([rule_id] + [f"{k}={'' if group[k] is None else group[k]}" for k in sorted(group)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint_col(rule_id: str, group: dict[str, Column]) -> Column:
    """:func:`fingerprint` as a Spark column (same value for the same inputs)."""
    parts = [F.lit(rule_id)] + [F.concat(F.lit(f"{k}="), F.coalesce(group[k].cast("string"), F.lit("")))
                                for k in sorted(group)]
    return F.substring(F.sha2(F.concat_ws("|", *parts), 256), 1, 16)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def alert_id(fp: str, window_start: datetime, window_end: datetime) -> str:
    """Id of one firing of a signal; naive datetimes are taken as UTC."""
    text = f"{fp}|{_iso(window_start)}|{_iso(window_end)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def alert_id_col(fp: Column, window_start: Column, window_end: Column) -> Column:
    """:func:`alert_id` as a Spark column (the session time zone is UTC)."""
    def iso(c: Column) -> Column:
        return F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS+00:00")

    return F.substring(F.sha2(F.concat_ws("|", fp, iso(window_start), iso(window_end)), 256), 1, 24)


def date_key_col(ts: Column) -> Column:
    return F.date_format(ts, "yyyyMMdd").cast("int")
