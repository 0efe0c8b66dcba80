"""Feature tables in ``plt_features``, computed from gold, point-in-time correct, refreshed with gold.

| table | key (grain) | as-of time of a row | what it holds |
| --- | --- | --- | --- |
| ``features_cost_workspace_daily`` | workspace_id, date_key | end of the day | the day's cost and trailing statistics of the 28 days before |
| ``features_job_efficiency`` | run_id (one job run) | the run's start | the job's history from runs that *ended* before this run started (30 days), the run's compute and SLA; outcome labels |
| ``features_security_surface`` | workspace_id, user_name, date_key | end of the day | the principal's security events that day and over the 7 days before |
| ``features_slo_reliability`` | entity_type, workspace_id, entity_id, date_key | end of the day | the day's runs (jobs) or query hours (warehouses), failures, SLO met, and the 7 days before |

Every row carries ``as_of``: nothing in it comes from after that moment, except the columns named
``label_*`` (the outcome a model learns to predict). Look-backs are bounded (at most 30 days), so a
change to a gold date can only move feature rows of that date and the 30 days after it.

Refresh is incremental with gold: each table keeps, in ``plt_ops.processing_state``, the newest gold
``_built_at`` it has read; a refresh rewrites the dates of gold rows built since (whole dates, with
``replaceWhere``) and the dates whose look-back reaches them. The first refresh writes everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.streams.offsets import Offsets

LOOKBACK_DAYS = 30


def _date(col: str = "date_key") -> F.Column:
    return F.to_date(F.col(col).cast("string"), "yyyyMMdd")


def _end_of_day(col: str = "date_key") -> F.Column:
    return (_date(col).cast("timestamp") + F.expr("INTERVAL 1 DAY")).alias("as_of")


def _date_key(c: F.Column) -> F.Column:
    return F.date_format(c, "yyyyMMdd").cast("int")


class Inputs:
    """Gold tables, read by name in one lakehouse."""

    def __init__(self, spark: SparkSession, cfg: Settings):
        self.spark, self.lh = spark, Lakehouse(cfg)

    def gold(self, table: str) -> DataFrame:
        return self.lh.read(self.spark, self.lh.name("gold", table))


# ---- the four tables -------------------------------------------------------------------------------------


def cost_workspace_daily(inputs: Inputs) -> DataFrame:
    """Workspace x day: the day's spend and the trailing statistics of the days before it."""
    cost = inputs.gold("fact_cost_daily").where("workspace_id IS NOT NULL")
    daily = cost.groupBy("workspace_id", "date_key").agg(
        F.sum("list_cost").cast("decimal(38,18)").alias("list_cost"),
        F.sum(F.when(F.col("is_serverless"), F.col("list_cost")).otherwise(0)).cast("decimal(38,18)").alias("serverless_cost"),
        F.sum(F.when(F.col("is_untagged"), F.col("list_cost")).otherwise(0)).cast("decimal(38,18)").alias("untagged_cost"),
        F.sum(F.when(F.col("job_id").isNotNull(), F.col("list_cost")).otherwise(0)).cast("decimal(38,18)").alias("jobs_cost"),
        F.sum(F.when(F.col("warehouse_id").isNotNull(), F.col("list_cost")).otherwise(0)).cast("decimal(38,18)").alias("sql_cost"),
        F.sum("usage_quantity").cast("decimal(38,18)").alias("usage_quantity"),
    ).withColumn("day", _date()).withColumn("day_n", F.datediff(F.col("day"), F.lit("1970-01-01")))
    # Windows over day numbers (not rows): a day without spend is a day, not a skipped row.
    by_ws = Window.partitionBy("workspace_id").orderBy("day_n")
    cost_d = F.col("list_cost").cast("double")

    def prior(days: int):
        return by_ws.rangeBetween(-days, -1)

    return daily.select(
        "workspace_id", "date_key", _end_of_day(), "list_cost", "serverless_cost", "untagged_cost", "jobs_cost",
        "sql_cost", "usage_quantity",
        F.dayofweek("day").alias("day_of_week"),
        F.dayofweek("day").isin(1, 7).alias("is_weekend"),
        F.sum(cost_d).over(by_ws.rangeBetween(-1, -1)).alias("cost_lag_1"),
        F.sum(cost_d).over(by_ws.rangeBetween(-7, -7)).alias("cost_lag_7"),
        (F.sum(cost_d).over(prior(7)) / 7).alias("cost_mean_7d"),
        F.stddev_pop(cost_d).over(prior(7)).alias("cost_std_7d"),
        (F.sum(cost_d).over(prior(28)) / 28).alias("cost_mean_28d"),
        F.count(cost_d).over(prior(28)).alias("days_with_cost_28d"),
    )


def job_efficiency(inputs: Inputs) -> DataFrame:
    """One row per job run: its job's record from runs that ended before it started, and its outcome."""
    runs = inputs.gold("fact_job_run").where("job_id IS NOT NULL AND start_time IS NOT NULL")
    jobs = inputs.gold("dim_job").select("job_key", "sla_seconds", "timeout_seconds")
    r = runs.join(jobs, "job_key", "left").select(
        "run_id", "workspace_id", "job_id", "date_key", "start_time", "end_time", "duration_seconds",
        "is_failed", "is_complete", "compute_type", "trigger_type", "retries", "list_cost", "sla_seconds",
        "timeout_seconds")
    p = r.where("is_complete AND end_time IS NOT NULL").select(
        F.col("workspace_id").alias("p_ws"), F.col("job_id").alias("p_job"), F.col("end_time").alias("p_end"),
        F.col("duration_seconds").alias("p_duration"), F.col("is_failed").alias("p_failed"),
        F.col("list_cost").alias("p_cost"), F.col("sla_seconds").alias("p_sla"))
    cond = ((F.col("p_ws") == F.col("workspace_id")) & (F.col("p_job") == F.col("job_id"))
            & (F.col("p_end") <= F.col("start_time"))
            & (F.col("p_end") > F.col("start_time") - F.expr(f"INTERVAL {LOOKBACK_DAYS} DAYS")))
    history = r.join(p, cond, "left").groupBy("run_id").agg(
        F.count("p_end").alias("prior_runs"),
        F.avg(F.col("p_failed").cast("double")).alias("prior_failure_rate"),
        F.avg("p_duration").alias("prior_mean_duration_s"),
        F.percentile_approx("p_duration", 0.9).cast("double").alias("prior_p90_duration_s"),
        F.avg(F.col("p_cost").cast("double")).alias("prior_mean_cost"),
        F.avg(F.when(F.col("p_sla").isNotNull(), (F.col("p_duration") > F.col("p_sla")).cast("double")))
         .alias("prior_sla_breach_rate"),
        F.max_by("p_failed", "p_end").alias("last_run_failed"),
        F.max("p_end").alias("last_run_end"),
    )
    return r.join(history, "run_id").select(
        "run_id", "workspace_id", "job_id", "date_key", F.col("start_time").alias("as_of"),
        F.hour("start_time").alias("hour_of_day"), F.dayofweek("start_time").alias("day_of_week"),
        "compute_type", "trigger_type", "sla_seconds", "timeout_seconds", "prior_runs", "prior_failure_rate",
        "prior_mean_duration_s", "prior_p90_duration_s", "prior_mean_cost", "prior_sla_breach_rate",
        "last_run_failed",
        ((F.unix_timestamp("start_time") - F.unix_timestamp("last_run_end")) / 3600).alias("hours_since_last_run"),
        F.col("is_failed").alias("label_failed"),
        (F.col("sla_seconds").isNotNull() & (F.col("duration_seconds") > F.col("sla_seconds"))).alias("label_sla_breach"),
        F.col("is_complete").alias("label_known"),
    )


def security_surface(inputs: Inputs) -> DataFrame:
    """Principal x workspace x day: security events that day and over the seven days before."""
    ev = inputs.gold("fact_security_event").where("user_name IS NOT NULL")
    daily = ev.groupBy(F.coalesce("workspace_id", F.lit("0")).alias("workspace_id"), "user_name", "date_key").agg(
        F.first("principal_type", ignorenulls=True).alias("principal_type"),
        F.count(F.lit(1)).alias("events"),
        F.sum(F.col("is_failure").cast("int")).alias("failed_events"),
        F.sum((F.col("severity_rank") >= 4).cast("int")).alias("high_events"),
        F.sum("severity_rank").alias("severity_weight"),
        F.countDistinct("source_ip").alias("distinct_ips"),
        F.countDistinct("event_type").alias("distinct_event_types"),
        F.sum((F.col("category") == "authentication").cast("int")).alias("auth_events"),
        F.sum(F.col("event_type").rlike("(?i)admin|permission|grant|acl").cast("int")).alias("privilege_events"),
        F.sum(F.col("event_type").rlike("(?i)download|export|secret").cast("int")).alias("exfiltration_events"),
    ).withColumn("day_n", F.datediff(_date(), F.lit("1970-01-01")))
    w = Window.partitionBy("workspace_id", "user_name").orderBy("day_n").rangeBetween(-7, -1)
    return daily.select(
        "workspace_id", "user_name", "date_key", _end_of_day(), "principal_type", "events", "failed_events",
        "high_events", "severity_weight", "distinct_ips", "distinct_event_types", "auth_events",
        "privilege_events", "exfiltration_events",
        F.coalesce(F.sum("events").over(w), F.lit(0)).alias("events_prior_7d"),
        F.coalesce(F.sum("failed_events").over(w), F.lit(0)).alias("failed_events_prior_7d"),
        F.coalesce(F.sum("high_events").over(w), F.lit(0)).alias("high_events_prior_7d"),
        F.count("events").over(w).alias("active_days_prior_7d"),
    )


def slo_reliability(inputs: Inputs) -> DataFrame:
    """Job or warehouse x day: events, failures and SLO met that day and over the seven days before."""
    runs = inputs.gold("fact_job_run").where("is_complete AND job_id IS NOT NULL")
    jobs = inputs.gold("dim_job").select("job_key", "sla_seconds")
    job_events = runs.join(jobs, "job_key", "left").select(
        F.lit("job").alias("entity_type"), "workspace_id", F.col("job_id").alias("entity_id"), "date_key",
        F.col("is_failed").alias("failed"),
        ((~F.col("is_failed")) & (F.col("sla_seconds").isNull() | (F.col("duration_seconds") <= F.col("sla_seconds"))))
        .alias("met_slo"))
    wh = inputs.gold("fact_warehouse_utilization").where("query_count > 0").select(
        F.lit("warehouse").alias("entity_type"), "workspace_id", F.col("warehouse_id").alias("entity_id"),
        "date_key", (F.col("failed_query_count") > 0).alias("failed"), (F.col("failed_query_count") == 0).alias("met_slo"))
    daily = job_events.unionByName(wh).groupBy("entity_type", "workspace_id", "entity_id", "date_key").agg(
        F.count(F.lit(1)).alias("events"), F.sum(F.col("failed").cast("int")).alias("failures"),
        F.sum(F.col("met_slo").cast("int")).alias("slo_met"),
    ).withColumn("day_n", F.datediff(_date(), F.lit("1970-01-01")))
    w = Window.partitionBy("entity_type", "workspace_id", "entity_id").orderBy("day_n").rangeBetween(-7, -1)
    return daily.select(
        "entity_type", "workspace_id", "entity_id", "date_key", _end_of_day(), "events", "failures", "slo_met",
        (F.col("slo_met") / F.col("events")).alias("slo_attainment"),
        F.sum("events").over(w).alias("events_prior_7d"),
        F.sum("failures").over(w).alias("failures_prior_7d"),
        (F.sum("slo_met").over(w) / F.sum("events").over(w)).alias("slo_attainment_prior_7d"),
    )


@dataclass(frozen=True)
class FeatureTable:
    table: str
    build: Callable[[Inputs], DataFrame]
    sources: tuple[str, ...]  # gold tables whose new rows move this table's dates
    keys: tuple[str, ...]
    comment: str


FEATURE_TABLES: tuple[FeatureTable, ...] = (
    FeatureTable("features_cost_workspace_daily", cost_workspace_daily, ("fact_cost_daily",),
                 ("workspace_id", "date_key"), "Workspace x day spend and trailing statistics (as of the day's end)"),
    FeatureTable("features_job_efficiency", job_efficiency, ("fact_job_run", "dim_job"), ("run_id",),
                 "One row per job run: the job's prior record (as of the run's start) and its outcome labels"),
    FeatureTable("features_security_surface", security_surface, ("fact_security_event",),
                 ("workspace_id", "user_name", "date_key"), "Principal x workspace x day security activity"),
    FeatureTable("features_slo_reliability", slo_reliability, ("fact_job_run", "fact_warehouse_utilization", "dim_job"),
                 ("entity_type", "workspace_id", "entity_id", "date_key"),
                 "Job or warehouse x day: events, failures, SLO attainment and the week before"),
)


@dataclass(frozen=True)
class RefreshResult:
    table: str
    mode: str  # full | incremental | unchanged
    dates: list[int]
    rows: int


def _touched_dates(inputs: Inputs, offsets: Offsets, ft: FeatureTable) -> tuple[list[int] | None, dict]:
    """Dates to rewrite (None: all) and the newest ``_built_at`` per source to record afterwards."""
    newest: dict = {}
    touched: set[int] = set()
    full = False
    for source in ft.sources:
        df = inputs.gold(source)
        if "_built_at" not in df.columns:  # dimensions: a change moves every date
            full = full or offsets.get(f"features.{ft.table}", source).hwm_timestamp is None
            continue
        latest = df.agg(F.max("_built_at")).first()[0]
        newest[source] = latest
        seen = offsets.get(f"features.{ft.table}", source).hwm_timestamp
        if seen is None:
            full = True
            continue
        if latest is not None and latest > seen:
            touched |= {r[0] for r in df.where(F.col("_built_at") > F.lit(seen)).select("date_key").distinct().collect()}
    if full:
        return None, newest
    if not touched:
        return [], newest
    # Look-backs reach forward: every date up to LOOKBACK_DAYS after the earliest touched one.
    first = min(touched)
    start = date(first // 10000, first // 100 % 100, first % 100)
    later = {int((start + timedelta(days=i)).strftime("%Y%m%d")) for i in range(LOOKBACK_DAYS + 1)}
    return sorted(touched | later), newest


def refresh_features(spark: SparkSession, cfg: Settings, full: bool = False,
                     tables: list[str] | None = None) -> list[RefreshResult]:
    """Bring every feature table up to date with gold; per table, what was written."""
    inputs, lh, offsets = Inputs(spark, cfg), Lakehouse(cfg), Offsets(spark, cfg)
    results = []
    for ft in FEATURE_TABLES:
        if tables and ft.table not in tables:
            continue
        name = lh.name("features", ft.table)
        dates, newest = _touched_dates(inputs, offsets, ft)
        exists = lh.exists(spark, name)
        if full or dates is None or not exists:
            rows = ft.build(inputs)
            lh.create_table(spark, name, rows.schema, partition_by=None, comment=ft.comment)
            rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(name)
            mode, written = "full", sorted(r[0] for r in spark.table(name).select("date_key").distinct().collect())
        elif not dates:
            mode, written = "unchanged", []
        else:
            in_dates = f"date_key IN ({', '.join(map(str, dates))})"
            rows = ft.build(inputs).where(in_dates)
            rows.write.format("delta").mode("overwrite").option("replaceWhere", in_dates).saveAsTable(name)
            mode, written = "incremental", dates
        for source in ft.sources:
            offsets.put(f"features.{ft.table}", source, hwm_timestamp=newest.get(source) or _now(spark))
        count = spark.table(name).count() if mode != "incremental" else spark.table(name).where(
            f"date_key IN ({', '.join(map(str, written))})").count()
        results.append(RefreshResult(ft.table, mode, written, count))
    return results


def _now(spark: SparkSession):
    return spark.sql("SELECT current_timestamp()").first()[0]


def read_features(spark: SparkSession, cfg: Settings, table: str) -> DataFrame:
    lh = Lakehouse(cfg)
    return lh.read(spark, lh.name("features", table))
