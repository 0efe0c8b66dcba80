"""Warehouse advisor: sizing, auto-stop, min/max clusters, serverless against pro, spill and the most
expensive statements, from ``fact_warehouse_utilization``, ``fact_query_execution`` and the current
``dim_warehouse`` version (thresholds in ``config/advisors.yaml``; arithmetic in docs/advisors.md)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakesentinel.advisors.config import AdvisorSettings
from lakesentinel.advisors.findings import Finding
from lakesentinel.advisors.window import Window, require, run_sql, window_of
from lakesentinel.settings import Settings

ADVISOR = "warehouses"
TABLES = ("fact_warehouse_utilization", "fact_query_execution", "dim_warehouse")
SIZES = ("2X_SMALL", "X_SMALL", "SMALL", "MEDIUM", "LARGE", "X_LARGE", "2X_LARGE", "3X_LARGE", "4X_LARGE")

_HOURS = """
WITH u AS (SELECT * FROM {{gold}}.fact_warehouse_utilization WHERE {window}),
per AS (
  SELECT
    workspace_id, warehouse_id,
    count(DISTINCT date_key) AS days,
    sum(CASE WHEN running_seconds > 0 THEN 1 ELSE 0 END) AS running_hours,
    sum(CASE WHEN running_seconds > 0 AND query_count > 0 THEN 1 ELSE 0 END) AS busy_hours,
    sum(CASE WHEN running_seconds > 0 AND query_count = 0 THEN 1 ELSE 0 END) AS idle_hours,
    CAST(sum(CASE WHEN running_seconds > 0 AND query_count = 0 THEN list_cost ELSE 0 END) AS DOUBLE) AS idle_cost,
    CAST(sum(CASE WHEN query_count > 0 THEN list_cost ELSE 0 END) AS DOUBLE) AS busy_cost,
    CAST(sum(list_cost) AS DOUBLE) AS cost,
    sum(query_count) AS queries,
    sum(queued_query_count) AS queued_queries,
    sum(queue_ms) AS queue_ms,
    sum(CASE WHEN running_seconds > 0 AND peak_clusters >= max_clusters THEN 1 ELSE 0 END) AS hours_at_max,
    avg(CASE WHEN running_seconds > 0 THEN utilization END) AS avg_utilization,
    max(peak_clusters) AS peak_clusters
  FROM u GROUP BY workspace_id, warehouse_id
)
SELECT per.*, w.warehouse_name, w.warehouse_type, upper(replace(w.warehouse_size, '-', '_')) AS warehouse_size,
       w.min_clusters, w.max_clusters, w.auto_stop_minutes
FROM per JOIN {{gold}}.dim_warehouse w
  ON w.is_current AND NOT w.is_deleted AND w.workspace_id = per.workspace_id AND w.warehouse_id = per.warehouse_id
"""

# Each statement's share of its warehouse's cost over the window, by task time (what the clusters did).
_STATEMENTS = """
WITH q AS (
  SELECT * FROM {{gold}}.fact_query_execution WHERE warehouse_id IS NOT NULL AND {window}
),
cost AS (
  SELECT workspace_id, warehouse_id, CAST(sum(list_cost) AS DOUBLE) AS cost
  FROM {{gold}}.fact_warehouse_utilization WHERE {hour_window} GROUP BY workspace_id, warehouse_id
),
shares AS (
  SELECT q.workspace_id, q.warehouse_id, q.statement_id, q.executed_by, q.statement_type, q.start_time,
         q.total_duration_ms, q.spilled_local_bytes,
         coalesce(q.total_task_duration_ms, q.execution_duration_ms, 0) AS task_ms,
         coalesce(q.total_task_duration_ms, q.execution_duration_ms, 0)
           / nullif(sum(coalesce(q.total_task_duration_ms, q.execution_duration_ms, 0))
                    OVER (PARTITION BY q.workspace_id, q.warehouse_id), 0) * c.cost AS attributed_cost
  FROM q JOIN cost c ON c.workspace_id = q.workspace_id AND c.warehouse_id = q.warehouse_id
)
SELECT *, row_number() OVER (PARTITION BY workspace_id, warehouse_id ORDER BY attributed_cost DESC, statement_id) AS cost_rank
FROM shares
"""


def _size_down(size: str | None) -> str | None:
    return SIZES[SIZES.index(size) - 1] if size in SIZES and SIZES.index(size) > 0 else None


def advise(spark: SparkSession, cfg: Settings, settings: AdvisorSettings) -> tuple[Window | None, list[Finding]]:
    require(spark, cfg, TABLES)
    window = window_of(spark, cfg, "fact_warehouse_utilization", "hour_start", settings.lookback_days)
    if window is None:
        return None, []
    hours = run_sql(spark, cfg, _HOURS.format(window=window.sql("hour_start")))
    statements = run_sql(spark, cfg, _STATEMENTS.format(window=window.sql("start_time"),
                                                         hour_window=window.sql("hour_start")))
    by_wh: dict[tuple, list[dict]] = {}
    for s in statements:
        by_wh.setdefault((s["workspace_id"], s["warehouse_id"]), []).append(s)
    findings = []
    for w in hours:
        findings.extend(_warehouse_findings(w, by_wh.get((w["workspace_id"], w["warehouse_id"]), []), window, settings))
    return window, findings


def _warehouse_findings(w: dict, statements: list[dict], window: Window, settings: AdvisorSettings) -> list[Finding]:
    th = settings.warehouses
    name = w["warehouse_name"] or w["warehouse_id"]
    out: list[Finding] = []

    def finding(kind, title, action, evidence, cost=None, hours=None):
        out.append(Finding(ADVISOR, kind, w["workspace_id"], "warehouse", w["warehouse_id"], w["warehouse_name"], title,
                           action, evidence, cost, hours))

    figures = {k: w[k] for k in ("days", "running_hours", "busy_hours", "idle_hours", "queries", "queued_queries",
                                 "hours_at_max", "peak_clusters", "warehouse_type", "warehouse_size", "min_clusters",
                                 "max_clusters", "auto_stop_minutes")}
    figures.update(cost=round(w["cost"] or 0, 2), avg_utilization=round(w["avg_utilization"] or 0, 3),
                   window_start=window.start, window_end=window.end)
    queries = w["queries"] or 0
    queued_share = (w["queued_queries"] or 0) / queries if queries else 0.0
    monthly_cost = window.monthly(w["cost"])
    if queries and queued_share >= th.queued_share and (w["hours_at_max"] or 0) > 0:
        target = (w["max_clusters"] or 1) + max(1, (w["max_clusters"] or 1) // 2)
        finding("undersized", f"{name}: {queued_share:.0%} of statements queued at max_clusters {w['max_clusters']}",
                f"raise max_clusters from {w['max_clusters']} to {target}",
                {**figures, "queued_share": round(queued_share, 3), "queue_hours": round((w["queue_ms"] or 0) / 3.6e6, 2)},
                hours=window.monthly((w["queue_ms"] or 0) / 3.6e6))
    smaller = _size_down(w["warehouse_size"])
    if (queries and smaller and (w["avg_utilization"] or 1) < th.low_utilization and queued_share < th.queued_share / 2
            and (w["hours_at_max"] or 0) == 0):
        saving = window.monthly(w["busy_cost"]) / 2  # one size down halves the DBUs of every running hour
        if saving >= settings.min_monthly_saving:
            finding("oversized", f"{name}: {w['avg_utilization']:.0%} of its clusters used, no queueing",
                    f"resize from {w['warehouse_size']} to {smaller}", figures, cost=saving)
    if (w["auto_stop_minutes"] or 0) > th.auto_stop_minutes and w["idle_hours"]:
        keep = th.target_auto_stop_minutes / w["auto_stop_minutes"]
        saving = window.monthly(w["idle_cost"]) * (1 - keep)
        if saving >= settings.min_monthly_saving:
            finding("auto_stop", f"{name}: auto-stop {w['auto_stop_minutes']} min, {w['idle_hours']} idle running hours",
                    f"set auto_stop_minutes from {w['auto_stop_minutes']} to {th.target_auto_stop_minutes}",
                    {**figures, "idle_cost": round(w["idle_cost"] or 0, 2)}, cost=saving)
    if (w["min_clusters"] or 1) > 1 and w["idle_hours"] and queued_share < th.queued_share / 2:
        # idle running hours keep min_clusters clusters up for nothing; one would do until auto-stop
        saving = window.monthly(w["idle_cost"]) * (w["min_clusters"] - 1) / w["min_clusters"]
        if saving >= settings.min_monthly_saving:
            finding("min_clusters", f"{name}: min_clusters {w['min_clusters']} kept up through {w['idle_hours']} idle hours",
                    f"lower min_clusters from {w['min_clusters']} to 1 (it scales up on demand)",
                    {**figures, "idle_cost": round(w["idle_cost"] or 0, 2)}, cost=saving)
    if (w["max_clusters"] or 0) > 1 and w["peak_clusters"] is not None and w["peak_clusters"] < w["max_clusters"] - 1:
        finding("max_clusters", f"{name}: never above {w['peak_clusters']} of {w['max_clusters']} clusters",
                f"lower max_clusters from {w['max_clusters']} to {max(int(w['peak_clusters']) + 1, 1)} "
                "(caps a runaway; saves nothing it used)", figures, cost=0.0)
    running = w["running_hours"] or 0
    if running and (w["cost"] or 0) > 0:
        rate = w["cost"] / running
        busy_share = (w["busy_hours"] or 0) / running
        if w["warehouse_type"] in ("PRO", "CLASSIC") and busy_share < th.bursty_busy_share:
            # serverless starts in seconds: it bills about the busy hours, at its higher price
            serverless = (w["busy_hours"] or 0) * rate * th.serverless_price_ratio
            saving = window.monthly(w["cost"] - serverless)
            if saving >= settings.min_monthly_saving:
                finding("serverless", f"{name}: busy in {busy_share:.0%} of its running hours on {w['warehouse_type']}",
                        "switch the warehouse to serverless", {**figures, "busy_share": round(busy_share, 3)}, cost=saving)
        elif w["warehouse_type"] == "SERVERLESS" and busy_share >= 0.95 and running >= 20 * window.days:
            pro = w["cost"] / th.serverless_price_ratio
            saving = window.monthly(w["cost"] - pro)
            if saving >= settings.min_monthly_saving:
                finding("pro", f"{name}: busy around the clock on serverless", "switch the warehouse to pro",
                        {**figures, "busy_share": round(busy_share, 3)}, cost=saving)
    if statements:
        spilled = [s for s in statements if (s["spilled_local_bytes"] or 0) > 0]
        share = len(spilled) / len(statements)
        if share >= th.spill_share:
            top = sorted(spilled, key=lambda s: (-(s["spilled_local_bytes"] or 0), s["statement_id"]))[: th.top_statements]
            finding("spill_heavy", f"{name}: {share:.0%} of statements spilled to disk",
                    f"size up from {w['warehouse_size']} or rewrite the top spilling statements (largest joins and sorts)",
                    {**figures, "spill_share": round(share, 3), "spilled_bytes": sum(s["spilled_local_bytes"] for s in spilled),
                     "statements": [_statement(s) for s in top]},
                    hours=window.monthly(sum((s["total_duration_ms"] or 0) for s in spilled) / 3.6e6))
        top = [s for s in statements if s["cost_rank"] <= th.top_statements]
        top_cost = sum(s["attributed_cost"] or 0 for s in top)
        if w["cost"] and top_cost / w["cost"] >= th.expensive_share and window.monthly(top_cost) >= settings.min_monthly_saving:
            finding("expensive_statements",
                    f"{name}: {len(top)} statement(s) are {top_cost / w['cost']:.0%} of its cost",
                    "optimise or schedule off-peak the statements listed (filters, pruning, materialised results)",
                    {**figures, "top_cost": round(top_cost, 2), "statements": [_statement(s) for s in top]},
                    cost=window.monthly(top_cost))
    return out


def _statement(s: dict) -> dict:
    return {"statement_id": s["statement_id"], "executed_by": s["executed_by"], "start_time": s["start_time"],
            "total_duration_ms": s["total_duration_ms"], "spilled_local_bytes": s["spilled_local_bytes"],
            "attributed_cost": round(s["attributed_cost"] or 0, 4)}
