"""The Cost, Security, Performance and Reliability pages: daily series and top-N tables over gold's
facts and views (metric views will replace these queries when they exist)."""

from __future__ import annotations

from dataclasses import dataclass

from lakesentinel.app.query_layer import QueryLayer


@dataclass(frozen=True)
class SeriesQuery:
    title: str
    unit: str
    lines: tuple[str, ...]
    sql: str  # one row per date_key, a column per line; newest 30 days


@dataclass(frozen=True)
class TableQuery:
    title: str
    sql: str


def _daily(select: str, source: str) -> str:
    return f"SELECT date_key, {select} FROM {source} GROUP BY date_key ORDER BY date_key DESC LIMIT 30"


def _newest_day(source: str) -> str:
    return f"date_key = (SELECT max(date_key) FROM {source})"


PAGES: dict[str, tuple[str, list[SeriesQuery], list[TableQuery]]] = {
    "cost": ("fact_cost_daily", [
        SeriesQuery("Daily list cost", "USD", ("list_cost", "serverless_list_cost", "untagged_list_cost"), _daily(
            "CAST(sum(list_cost) AS DOUBLE) AS list_cost, CAST(sum(serverless_list_cost) AS DOUBLE) AS serverless_list_cost, "
            "CAST(sum(untagged_list_cost) AS DOUBLE) AS untagged_list_cost", "{gold}.v_spend_by_workspace_daily")),
    ], [
        TableQuery("Top cost drivers on the newest day", f"""
            SELECT resource_type, coalesce(resource_name, resource_id) AS resource, workspace_id,
                   CAST(list_cost AS DOUBLE) AS list_cost, CAST(increase AS DOUBLE) AS increase_over_baseline,
                   round(share_of_day, 3) AS share_of_day
            FROM {{gold}}.v_cost_drivers_daily WHERE {_newest_day('{gold}.v_cost_drivers_daily')}
            ORDER BY cost_rank LIMIT 10"""),
        TableQuery("Top jobs and pipelines by list cost (30 days of data)", """
            SELECT resource_type, coalesce(resource_name, resource_id) AS resource, workspace_id,
                   CAST(list_cost_30d AS DOUBLE) AS list_cost_30d, runs, failed_runs,
                   CAST(list_cost_per_run AS DOUBLE) AS list_cost_per_run
            FROM {gold}.v_top_jobs_and_pipelines ORDER BY coalesce(list_cost_30d, 0) DESC LIMIT 10"""),
    ]),
    "security": ("fact_security_event", [
        SeriesQuery("Security events per day", "events", ("events", "failures"), _daily(
            "sum(events) AS events, sum(failures) AS failures", "{gold}.v_security_events_daily")),
    ], [
        TableQuery("Top security event types", """
            SELECT category, event_type, severity, sum(events) AS events, sum(failures) AS failures,
                   max(principals) AS max_principals_per_day
            FROM {gold}.v_security_events_daily GROUP BY category, event_type, severity, severity_rank
            ORDER BY severity_rank DESC, events DESC LIMIT 10"""),
        TableQuery("Workspaces by failed security events", """
            SELECT workspace_id, first(workspace_name, true) AS workspace_name, sum(events) AS events,
                   sum(failures) AS failures
            FROM {gold}.v_security_events_daily GROUP BY workspace_id ORDER BY failures DESC, events DESC LIMIT 10"""),
    ]),
    "performance": ("fact_query_execution", [
        SeriesQuery("Query duration per day", "seconds", ("p50_s", "p95_s"), _daily(
            "round(percentile_approx(total_duration_ms, 0.5) / 1000.0, 2) AS p50_s, "
            "round(percentile_approx(total_duration_ms, 0.95) / 1000.0, 2) AS p95_s", "{gold}.fact_query_execution")),
    ], [
        TableQuery("Slowest warehouses on the newest day (P95)", f"""
            SELECT coalesce(warehouse_name, warehouse_id) AS warehouse, workspace_id, queries, failed_queries,
                   round(p95_duration_ms / 1000.0, 2) AS p95_s, round(p95_vs_baseline, 2) AS p95_vs_baseline,
                   queued_queries, spilling_queries
            FROM {{gold}}.v_warehouse_query_performance WHERE {_newest_day('{gold}.v_warehouse_query_performance')}
            ORDER BY p95_duration_ms DESC LIMIT 10"""),
        TableQuery("Warehouse utilisation on the newest day", f"""
            SELECT warehouse_id, workspace_id, round(running_hours, 1) AS running_hours,
                   round(utilization_while_running, 2) AS utilization, queries, queued_queries,
                   round(queue_seconds, 1) AS queue_seconds, CAST(list_cost AS DOUBLE) AS list_cost
            FROM {{gold}}.v_warehouse_utilization_daily WHERE {_newest_day('{gold}.v_warehouse_utilization_daily')}
            ORDER BY queued_queries DESC, running_hours DESC LIMIT 10"""),
    ]),
    "reliability": ("fact_job_run", [
        SeriesQuery("Job runs per day", "runs", ("runs", "failed_runs"), _daily(
            "count(*) AS runs, sum(CASE WHEN is_failed THEN 1 ELSE 0 END) AS failed_runs", "{gold}.fact_job_run")),
    ], [
        TableQuery("Jobs by the list cost of their failed runs", """
            SELECT coalesce(job_name, job_id) AS job, workspace_id, runs, failed_runs, round(failure_rate, 3) AS failure_rate,
                   CAST(failed_list_cost AS DOUBLE) AS failed_list_cost, last_result_state
            FROM {gold}.v_failed_run_cost ORDER BY failed_cost_rank LIMIT 10"""),
    ]),
}


def day(date_key: int) -> str:
    """>>> day(20260302)
    '2026-03-02'
    """
    text = str(date_key)
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def domain_page(layer: QueryLayer, domain: str) -> dict:
    """The charts and tables of one domain page; empty (``gold_ready`` false) until gold is built."""
    fact, series_queries, table_queries = PAGES[domain]
    if not layer.exists("gold", fact):
        return {"domain": domain, "gold_ready": False, "series": [], "tables": [], "incidents": []}
    series = []
    for q in series_queries:
        rows = sorted(layer.rows(q.title, q.sql), key=lambda r: r["date_key"])
        series.append({"title": q.title, "unit": q.unit, "x": "day", "lines": list(q.lines),
                       "points": [{"day": day(r["date_key"]), **{k: r[k] for k in q.lines}} for r in rows]})
    tables = []
    for q in table_queries:
        rows = layer.rows(q.title, q.sql)
        columns = list(rows[0]) if rows else []
        tables.append({"title": q.title, "columns": columns, "rows": rows})
    return {"domain": domain, "gold_ready": True, "series": series, "tables": tables, "incidents": []}
