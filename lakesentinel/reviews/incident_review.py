"""Incident reviews over ``plt_gold.fact_incident``, joined to the cost, job-run and query facts.

Each review is one Spark SQL statement with ``{gold}`` placeholders (rendered as gold's DDL is) and a
``{window}`` condition over the incidents, so the same text serves ``lakesentinel incidents review``
(a date range) and the Lakeview dashboards (the last 90 days of data). Plain SQL: it runs on classic
Spark, Spark Connect and a SQL warehouse alike.

Incidents are placed in time by ``first_seen`` (event time: the alert windows), not ``opened_at``
(processing time), so a replayed or simulated history reviews the same as live data. Time to
acknowledge and to resolve are the lifecycle's own ``time_to_acknowledge_s`` / ``time_to_resolve_s``.

``fact_incident`` has no resolution reason column; ``resolution`` holds ``auto: no alert for Ns`` (the
signal stopped), ``manual`` or ``manual: <note>``. A manual resolution whose note starts with a false-
positive marker (``false positive``, ``false alarm``, ``fp``, ``noise``, ``not an issue``, ``benign``;
``incidents resolve --false-positive`` writes the first) counts as a false positive.

>>> print(window_condition(date(2026, 3, 2), date(2026, 3, 8)))
i.first_seen >= TIMESTAMP '2026-03-02 00:00:00' AND i.first_seen < TIMESTAMP '2026-03-09 00:00:00'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from lakesentinel.errors import LakeSentinelError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

TABLES = ("fact_incident", "fact_cost_hourly", "fact_job_run", "fact_query_execution")
DASHBOARD_DAYS = 90
FALSE_POSITIVE_MARKERS = ("false positive", "false-positive", "false alarm", "fp", "noise", "not an issue", "benign")


class ReviewError(LakeSentinelError):
    """A review that cannot run: a window that makes no sense, or a gold table missing."""


def _marker_regex() -> str:
    return "^manual: *(" + "|".join(FALSE_POSITIVE_MARKERS) + ")([^a-z]|$)"


# One row per incident in the window, with how it was resolved and its ISO week.
INCIDENTS = f"""
SELECT
  i.*,
  CASE
    WHEN i.resolved_at IS NULL THEN NULL
    WHEN lower(i.resolution) RLIKE '{_marker_regex()}' THEN 'false_positive'
    WHEN lower(i.resolution) LIKE 'manual%' THEN 'manual'
    WHEN lower(i.resolution) LIKE 'auto%' THEN 'auto'
    ELSE 'other'
  END AS resolution_class,
  CAST(date_trunc('WEEK', i.first_seen) AS DATE) AS week_start,
  concat(CAST(extract(YEAROFWEEK FROM i.first_seen) AS STRING), '-W',
         lpad(CAST(weekofyear(i.first_seen) AS STRING), 2, '0')) AS iso_week
FROM {{gold}}.fact_incident i
WHERE {{window}}
"""

_RESPONSE_MEASURES = """
    count(*) AS incidents,
    count(acknowledged_at) AS acknowledged,
    count(resolved_at) AS resolved,
    avg(time_to_acknowledge_s) AS mtta_s,
    percentile(time_to_acknowledge_s, 0.5) AS median_tta_s,
    avg(time_to_resolve_s) AS mttr_s,
    percentile(time_to_resolve_s, 0.5) AS median_ttr_s,
    avg(CASE WHEN resolution_class IN ('manual', 'false_positive') THEN time_to_resolve_s END) AS mttr_manual_s,
    sum(CASE WHEN resolution_class = 'auto' THEN 1 ELSE 0 END) AS auto_resolved,
    sum(CASE WHEN resolution_class IN ('manual', 'false_positive') THEN 1 ELSE 0 END) AS manual_resolved,
    sum(CASE WHEN resolution_class = 'false_positive' THEN 1 ELSE 0 END) AS false_positives"""

# MTTA, MTTR and the false-positive share per domain, severity and ISO week, and over all incidents.
RESPONSE = f"""
WITH i AS ({INCIDENTS}),
groups AS (
  SELECT 'domain' AS breakdown, domain AS value, {_RESPONSE_MEASURES} FROM i GROUP BY domain
  UNION ALL
  SELECT 'severity' AS breakdown, severity AS value, {_RESPONSE_MEASURES} FROM i GROUP BY severity
  UNION ALL
  SELECT 'week' AS breakdown, iso_week AS value, {_RESPONSE_MEASURES} FROM i GROUP BY iso_week
  UNION ALL
  SELECT 'all' AS breakdown, 'all' AS value, {_RESPONSE_MEASURES} FROM i
)
SELECT
  g.*,
  CAST(g.false_positives AS DOUBLE) / nullif(g.resolved, 0) AS false_positive_share,
  CAST(g.false_positives AS DOUBLE) / nullif(g.manual_resolved, 0) AS false_positive_share_of_manual
FROM groups g
"""

# Incidents and alerts per rule or detector, noisiest first.
NOISE = f"""
WITH i AS ({INCIDENTS})
SELECT
  rule_id AS source_id,
  kind,
  domain,
  count(*) AS incidents,
  sum(alert_count) AS alerts,
  CAST(sum(alert_count) AS DOUBLE) / count(*) AS alerts_per_incident,
  CAST(sum(alert_count) AS DOUBLE) / sum(sum(alert_count)) OVER () AS alert_share,
  sum(CASE WHEN resolution_class = 'false_positive' THEN 1 ELSE 0 END) AS false_positives,
  avg(time_to_resolve_s) AS mttr_s,
  rank() OVER (ORDER BY sum(alert_count) DESC, count(*) DESC) AS noise_rank
FROM i
GROUP BY rule_id, kind, domain
"""

# Each incident with the facts of its entity over its window. Cost rows are matched to entities by
# (type, id, workspace): a cost row names a job, warehouse, cluster, SKU, principal and pipeline at once.
IMPACT = f"""
WITH i AS (
  SELECT
    x.*,
    unix_seconds(date_trunc('HOUR', x.first_seen)) AS start_s,
    greatest(1, CAST(ceil((unix_seconds(x.last_seen) - unix_seconds(date_trunc('HOUR', x.first_seen))) / 3600.0) AS INT))
      AS window_hours
  FROM ({INCIDENTS}) x
),
cost AS (
  SELECT c.workspace_id, e.entity_type, e.entity_id, unix_seconds(c.hour_start) AS hour_s, c.list_cost
  FROM {{gold}}.fact_cost_hourly c
  LATERAL VIEW stack(6, 'job', c.job_id, 'warehouse', c.warehouse_id, 'cluster', c.cluster_id, 'sku', c.sku_name,
                     'user', c.principal_name, 'pipeline', c.pipeline_id) e AS entity_type, entity_id
  WHERE e.entity_id IS NOT NULL
),
window_cost AS (
  SELECT i.incident_id, sum(c.list_cost) AS window_cost
  FROM i JOIN cost c
    ON c.entity_type = i.entity_type AND c.entity_id = i.entity_id AND c.workspace_id = i.workspace_id
   AND c.hour_s >= i.start_s AND c.hour_s < i.start_s + i.window_hours * 3600
  GROUP BY i.incident_id
),
days_before AS (
  SELECT explode(sequence(1, 7)) AS days_before
),
baseline_cost AS (
  -- the same hours of each of the seven days before: what the entity usually costs then
  SELECT i.incident_id, sum(c.list_cost) / 7 AS baseline_cost
  FROM i
  CROSS JOIN days_before d
  JOIN cost c
    ON c.entity_type = i.entity_type AND c.entity_id = i.entity_id AND c.workspace_id = i.workspace_id
   AND c.hour_s >= i.start_s - d.days_before * 86400
   AND c.hour_s < i.start_s - d.days_before * 86400 + i.window_hours * 3600
  GROUP BY i.incident_id
),
runs AS (
  SELECT
    i.incident_id,
    count(*) AS job_runs,
    sum(CASE WHEN r.is_failed THEN 1 ELSE 0 END) AS failed_runs,
    sum(CASE WHEN r.is_failed THEN r.list_cost END) AS failed_run_cost,
    sum(r.list_cost) AS run_cost
  FROM i JOIN {{gold}}.fact_job_run r
    ON i.entity_type = 'job' AND r.job_id = i.entity_id AND r.workspace_id = i.workspace_id
   AND r.start_time < i.last_seen AND coalesce(r.end_time, r.start_time) >= i.first_seen
  GROUP BY i.incident_id
),
queries AS (
  SELECT
    i.incident_id,
    count(*) AS queries,
    sum(CASE WHEN q.is_failed THEN 1 ELSE 0 END) AS failed_queries,
    sum(q.total_duration_ms) / 1000.0 AS query_seconds,
    sum(q.waiting_at_capacity_duration_ms) / 1000.0 AS queued_seconds,
    sum(q.spilled_local_bytes) AS spilled_bytes
  FROM i JOIN {{gold}}.fact_query_execution q
    ON q.workspace_id = i.workspace_id
   AND ((i.entity_type = 'warehouse' AND q.warehouse_id = i.entity_id)
        OR (i.entity_type = 'user' AND q.executed_by = i.entity_id))
   AND q.start_time >= i.first_seen AND q.start_time < i.last_seen
  GROUP BY i.incident_id
)
SELECT
  i.incident_id, i.rule_id, i.kind, i.domain, i.severity, i.status, i.resolution_class, i.workspace_id,
  i.entity_type, i.entity_id, i.first_seen, i.last_seen, i.window_hours,
  CAST(coalesce(w.window_cost, 0) AS DECIMAL(38, 18)) AS window_cost,
  CAST(coalesce(b.baseline_cost, 0) AS DECIMAL(38, 18)) AS baseline_cost,
  CAST(coalesce(w.window_cost, 0) - coalesce(b.baseline_cost, 0) AS DECIMAL(38, 18)) AS excess_cost,
  coalesce(r.job_runs, 0) AS job_runs,
  coalesce(r.failed_runs, 0) AS failed_runs,
  CAST(coalesce(r.failed_run_cost, 0) AS DECIMAL(38, 18)) AS failed_run_cost,
  coalesce(q.queries, 0) AS queries,
  coalesce(q.failed_queries, 0) AS failed_queries,
  q.query_seconds,
  q.queued_seconds,
  q.spilled_bytes,
  CAST(greatest(coalesce(w.window_cost, 0) - coalesce(b.baseline_cost, 0), coalesce(r.failed_run_cost, 0), 0)
       AS DECIMAL(38, 18)) AS cost_impact,
  i.cost_impact AS alert_cost_impact
FROM i
LEFT JOIN window_cost w ON w.incident_id = i.incident_id
LEFT JOIN baseline_cost b ON b.incident_id = i.incident_id
LEFT JOIN runs r ON r.incident_id = i.incident_id
LEFT JOIN queries q ON q.incident_id = i.incident_id
"""

REVIEWS = {"response": RESPONSE, "noise": NOISE, "impact": IMPACT}


def window_condition(since: date, until: date | None) -> str:
    """Incidents whose first alert window starts on ``since`` .. ``until`` (inclusive dates)."""
    start = datetime.combine(since, time())
    cond = f"i.first_seen >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'"
    if until is not None:
        if until < since:
            raise ReviewError(f"--until {until} is before --since {since}")
        end = datetime.combine(until + timedelta(days=1), time())
        cond += f" AND i.first_seen < TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'"
    return cond


def latest_days_condition(days: int = DASHBOARD_DAYS, gold: str = "{gold}") -> str:
    """The last ``days`` days of incidents held (counted back from the newest, as gold's views do)."""
    return f"i.first_seen >= (SELECT max(first_seen) FROM {gold}.fact_incident) - INTERVAL {days} DAYS"


def review_sql(review: str, window: str) -> str:
    """A review's statement with its window filled in; ``{gold}`` is left for the caller to render."""
    try:
        text = REVIEWS[review]
    except KeyError:
        raise ReviewError(f"unknown review {review!r}; one of {', '.join(REVIEWS)}") from None
    return text.replace("{window}", window)


@dataclass
class IncidentReview:
    since: date
    until: date | None
    response: list[dict]
    noise: list[dict]
    impact: list[dict]

    def summary(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat() if self.until else None,
                "response": self.response, "noise": self.noise, "impact": self.impact}


def run_review(spark: SparkSession, cfg: Settings, since: date, until: date | None = None) -> IncidentReview:
    """Every review over the incidents whose first window starts between ``since`` and ``until``."""
    from lakesentinel.gold.ddl import render

    window = window_condition(since, until)
    lh = Lakehouse(cfg)
    for table in TABLES:
        if not lh.exists(spark, lh.name("gold", table)):
            hint = ("the alert lifecycle creates it (`lakesentinel lifecycle run` or `stream all`)"
                    if table == "fact_incident" else "run `lakesentinel gold build`")
            raise ReviewError(f"{lh.name('gold', table)} does not exist: {hint}")
    out = {}
    for name in REVIEWS:
        sql = render(review_sql(name, window), cfg, Path(__file__))
        out[name] = [r.asDict() for r in spark.sql(sql).collect()]
    severity = {s: n for n, s in enumerate(("critical", "high", "medium", "low", "info"))}
    order = {"all": 0, "domain": 1, "severity": 2, "week": 3}
    out["response"].sort(key=lambda r: (order[r["breakdown"]], severity.get(r["value"], 9) if r["breakdown"] == "severity"
                                        else 0, r["value"] or ""))
    out["noise"].sort(key=lambda r: (r["noise_rank"], r["source_id"]))
    out["impact"].sort(key=lambda r: (-r["cost_impact"], r["first_seen"], r["incident_id"]))
    return IncidentReview(since, until, out["response"], out["noise"], out["impact"])
