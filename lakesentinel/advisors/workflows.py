"""Workflow advisor: jobs on all-purpose compute, the cost of failures and retries, runtime regressions,
over-provisioned job clusters, and jobs without an owner or cost tags, from ``fact_job_run``,
``fact_cost_hourly``, ``dim_job`` and ``dim_cluster`` (thresholds in ``config/advisors.yaml``)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakesentinel.advisors.config import AdvisorSettings
from lakesentinel.advisors.findings import Finding
from lakesentinel.advisors.window import Window, require, run_sql, window_of
from lakesentinel.settings import Settings

ADVISOR = "workflows"
TABLES = ("fact_job_run", "fact_cost_hourly", "dim_job", "dim_cluster")
# Cluster sources of clusters made for one job run or pipeline update; any other cluster is all-purpose.
JOB_CLUSTER_SOURCES = ("JOB", "PIPELINE", "PIPELINE_MAINTENANCE")

_JOBS = """
WITH r AS (SELECT * FROM {{gold}}.fact_job_run WHERE job_id IS NOT NULL AND {window}),
per AS (
  SELECT
    workspace_id, job_id,
    count(*) AS runs,
    sum(CASE WHEN is_failed THEN 1 ELSE 0 END) AS failed_runs,
    sum(coalesce(retries, 0)) AS retries,
    CAST(sum(list_cost) AS DOUBLE) AS cost,
    CAST(sum(CASE WHEN is_failed THEN list_cost END) AS DOUBLE) AS failed_cost,
    sum(duration_seconds) AS run_seconds,
    percentile(CASE WHEN NOT is_failed AND start_time >= TIMESTAMP '{recent}' THEN duration_seconds END, 0.5) AS recent_median_s,
    percentile(CASE WHEN NOT is_failed AND start_time < TIMESTAMP '{recent}' THEN duration_seconds END, 0.5) AS earlier_median_s,
    sum(CASE WHEN NOT is_failed AND start_time >= TIMESTAMP '{recent}' THEN 1 ELSE 0 END) AS recent_runs,
    sum(CASE WHEN NOT is_failed AND start_time < TIMESTAMP '{recent}' THEN 1 ELSE 0 END) AS earlier_runs,
    max_by(termination_code, CASE WHEN is_failed THEN start_time END) AS last_failure_code
  FROM r GROUP BY workspace_id, job_id
)
SELECT per.*, j.job_name, j.creator_user_name, j.run_as_user_name, j.tags
FROM per LEFT JOIN {{gold}}.dim_job j
  ON j.is_current AND j.workspace_id = per.workspace_id AND j.job_id = per.job_id
"""

# Run hours each job spent on each cluster, with the cluster's current configuration and its list
# cost per billed hour over the window.
_CLUSTERS = """
WITH r AS (
  SELECT workspace_id, job_id, run_id, duration_seconds, list_cost, explode(compute_ids) AS cluster_id
  FROM {{gold}}.fact_job_run WHERE job_id IS NOT NULL AND {window}
),
rate AS (
  SELECT workspace_id, cluster_id, CAST(sum(list_cost) AS DOUBLE) / nullif(sum(billed_hours), 0) AS cost_per_hour
  FROM {{gold}}.fact_cost_hourly WHERE cluster_id IS NOT NULL AND {hour_window}
  GROUP BY workspace_id, cluster_id
)
SELECT
  r.workspace_id, r.job_id, r.cluster_id, c.cluster_name, c.cluster_source, c.worker_count,
  c.min_autoscale_workers, c.max_autoscale_workers, c.worker_node_type,
  count(*) AS runs, CAST(sum(r.duration_seconds) / 3600.0 AS DOUBLE) AS run_hours, CAST(sum(r.list_cost) AS DOUBLE) AS run_cost,
  max(rate.cost_per_hour) AS cost_per_hour
FROM r
JOIN {{gold}}.dim_cluster c ON c.is_current AND c.workspace_id = r.workspace_id AND c.cluster_id = r.cluster_id
LEFT JOIN rate ON rate.workspace_id = r.workspace_id AND rate.cluster_id = r.cluster_id
GROUP BY r.workspace_id, r.job_id, r.cluster_id, c.cluster_name, c.cluster_source, c.worker_count,
         c.min_autoscale_workers, c.max_autoscale_workers, c.worker_node_type
"""


def advise(spark: SparkSession, cfg: Settings, settings: AdvisorSettings) -> tuple[Window | None, list[Finding]]:
    require(spark, cfg, TABLES)
    window = window_of(spark, cfg, "fact_job_run", "start_time", settings.lookback_days)
    if window is None:
        return None, []
    from datetime import timedelta

    recent = window.end - timedelta(days=settings.workflows.recent_days)
    jobs = run_sql(spark, cfg, _JOBS.format(window=window.sql("start_time"), recent=f"{recent:%Y-%m-%d %H:%M:%S}"))
    clusters = run_sql(spark, cfg, _CLUSTERS.format(window=window.sql("start_time"), hour_window=window.sql("hour_start")))
    by_job: dict[tuple, list[dict]] = {}
    for c in clusters:
        by_job.setdefault((c["workspace_id"], c["job_id"]), []).append(c)
    findings = []
    for j in jobs:
        findings.extend(_job_findings(j, by_job.get((j["workspace_id"], j["job_id"]), []), window, settings))
    return window, findings


def _job_findings(j: dict, clusters: list[dict], window: Window, settings: AdvisorSettings) -> list[Finding]:
    th = settings.workflows
    name = j["job_name"] or j["job_id"]
    out: list[Finding] = []

    def finding(kind, title, action, evidence, cost=None, hours=None):
        out.append(Finding(ADVISOR, kind, j["workspace_id"], "job", j["job_id"], j["job_name"], title, action,
                           evidence, cost, hours))

    figures = {k: j[k] for k in ("runs", "failed_runs", "retries", "run_seconds")}
    figures.update(cost=round(j["cost"] or 0, 2), window_start=window.start, window_end=window.end)
    all_purpose = [c for c in clusters if c["cluster_source"] not in JOB_CLUSTER_SOURCES]
    if all_purpose:
        # runs on an all-purpose cluster are not billed to the run: cost them at the cluster's hourly rate
        spent = sum((c["run_hours"] or 0) * (c["cost_per_hour"] or 0) for c in all_purpose)
        saving = window.monthly(spent) * (1 - th.jobs_price_ratio)
        if saving >= settings.min_monthly_saving:
            finding("all_purpose_compute", f"{name}: {sum(c['runs'] for c in all_purpose)} run(s) on all-purpose clusters",
                    "run the job on a job cluster (or serverless jobs compute) instead of "
                    + ", ".join(sorted({c["cluster_name"] or c["cluster_id"] for c in all_purpose})),
                    {**figures, "estimated_cost": round(spent, 2),
                     "clusters": [{k: c[k] for k in ("cluster_id", "cluster_name", "cluster_source", "runs", "run_hours",
                                                     "cost_per_hour")} for c in all_purpose]},
                    cost=saving)
    runs = j["runs"] or 0
    if runs and (j["failed_runs"] or 0) / runs >= th.min_failed_share:
        wasted = window.monthly(j["failed_cost"])
        if wasted >= settings.min_monthly_saving or not j["failed_cost"]:
            finding("failures_and_retries",
                    f"{name}: {j['failed_runs']} of {runs} runs failed ({j['retries']} retries)",
                    f"fix the cause of the failures (last: {j['last_failure_code'] or 'unknown'}) before the next retry; "
                    "add a health check or a retry with backoff only for transient errors",
                    {**figures, "failed_cost": round(j["failed_cost"] or 0, 2), "last_failure_code": j["last_failure_code"]},
                    cost=wasted)
    recent, earlier = j["recent_median_s"], j["earlier_median_s"]
    if (recent and earlier and (j["recent_runs"] or 0) >= th.min_runs and (j["earlier_runs"] or 0) >= th.min_runs
            and recent >= th.regression_ratio * earlier):
        per_month = (j["recent_runs"] or 0) / th.recent_days * 30
        extra_hours = (recent - earlier) * per_month / 3600
        rate = (j["cost"] or 0) / j["run_seconds"] * 3600 if j["run_seconds"] else 0.0
        finding("runtime_regression", f"{name}: median run {recent / 60:.1f} min, was {earlier / 60:.1f} min",
                "find what changed in the job or its input since the runtime rose (code, data volume, cluster) and undo it",
                {**figures, "recent_median_s": recent, "earlier_median_s": earlier, "recent_runs": j["recent_runs"],
                 "earlier_runs": j["earlier_runs"]},
                cost=extra_hours * rate, hours=extra_hours)
    fixed = [c for c in clusters if c["cluster_source"] == "JOB" and (c["worker_count"] or 0) >= th.fixed_workers
             and not c["max_autoscale_workers"]]
    if fixed:
        cost = sum(c["run_cost"] or 0 for c in fixed)
        saving = window.monthly(cost) * th.autoscale_saving
        if saving >= settings.min_monthly_saving:
            workers = max(c["worker_count"] for c in fixed)
            finding("overprovisioned_cluster", f"{name}: job cluster of {workers} fixed workers",
                    f"enable autoscaling on the job cluster (min 1, max {workers}) or a smaller fixed size",
                    {**figures, "clusters": [{k: c[k] for k in ("cluster_id", "worker_count", "worker_node_type", "runs",
                                                                "run_cost")} for c in fixed]},
                    cost=saving)
    tags = j["tags"] or {}
    missing = [t for t in th.required_tags if not tags.get(t)]
    owner = j["run_as_user_name"] or j["creator_user_name"]
    if j["job_name"] is not None and (missing or not owner):
        what = ([] if owner else ["no owner"]) + ([f"no tags {', '.join(missing)}"] if missing else [])
        finding("missing_owner_or_tags", f"{name}: {', '.join(what)}",
                "set " + " and ".join(([] if owner else ["run_as to an owning principal"])
                                      + ([f"the job tags {', '.join(missing)}"] if missing else [])),
                {**figures, "missing_tags": missing, "owner": owner},
                cost=window.monthly(j["cost"]))  # spend that showback cannot attribute
    return out
