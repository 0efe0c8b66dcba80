"""Silver job runs and task runs: one row per run, rebuilt from all its timeline slices.

A run longer than an hour arrives as several immutable slices, the outcome only on the last, and a
repaired run has one outcome per attempt; each batch recomputes the runs it touched from every slice
they have so far.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.silver.lookups import silver
from lakesentinel.silver.task import SilverTask, date_key
from lakesentinel.streams.bronze import bronze_name

LOOKBACK = timedelta(days=3)  # longest run whose early slices are re-read when a later slice lands


def _final(column: str):
    """The value on the latest slice that has an outcome."""
    return F.max_by(F.col(column), F.when(F.col("result_state").isNotNull(), F.col("period_end_time")))


def _runs(spark: SparkSession, cfg: Settings, source: str, changes: DataFrame, extra_keys: list[str]) -> DataFrame:
    touched = changes.select("workspace_id", "run_id").distinct()
    earliest = changes.agg(F.min("period_start_time")).first()[0]
    slices = Lakehouse(cfg).read(spark, bronze_name(cfg, source))
    if earliest is not None:
        slices = slices.where(F.col("period_start_time") >= F.lit(earliest - LOOKBACK))
    slices = slices.join(touched, ["workspace_id", "run_id"], "left_semi")
    ids = F.transform("compute", lambda c: F.coalesce(c["cluster_id"], c["warehouse_id"]))
    return slices.groupBy("workspace_id", "run_id").agg(
        F.first("account_id").alias("account_id"), F.first("job_id").alias("job_id"),
        *[F.first(k).alias(k) for k in extra_keys],
        F.min("period_start_time").alias("start_time"), F.max("period_end_time").alias("end_time"),
        F.sum(F.unix_timestamp("period_end_time") - F.unix_timestamp("period_start_time")).alias("duration_seconds"),
        _final("result_state").alias("result_state"), _final("termination_code").alias("termination_code"),
        _final("termination_type").alias("termination_type"),
        F.count("result_state").alias("attempts"),
        F.max("setup_duration_seconds").alias("setup_duration_seconds"),
        F.max("execution_duration_seconds").alias("execution_duration_seconds"),
        F.max("cleanup_duration_seconds").alias("cleanup_duration_seconds"),
        F.array_distinct(F.flatten(F.collect_list(F.coalesce(ids, F.col("compute_ids"))))).alias("compute_ids"),
        F.first(F.col("compute")[0]["type"], ignorenulls=True).alias("compute_type"),
        F.max("_source_commit_timestamp").alias("_source_commit_timestamp"),
    ).withColumn("retries", F.greatest(F.col("attempts") - 1, F.lit(0))) \
     .withColumn("is_complete", F.col("attempts") > 0) \
     .withColumn("date_key", date_key(F.col("start_time")))


class JobRunTask(SilverTask):
    name, source, target, key = "silver.job_run", "lakeflow.job_run_timeline", "job_run", ("workspace_id", "run_id")

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        runs = _runs(spark, cfg, self.source, changes, ["run_name", "trigger_type", "run_type"])
        jobs = silver(spark, cfg, "dim_job", "workspace_id string, job_id string").select(
            "workspace_id", "job_id").distinct().withColumn("job_known", F.lit(True))
        return (runs.join(jobs, ["workspace_id", "job_id"], "left")
                    .withColumn("job_known", F.coalesce("job_known", F.lit(False))))


class TaskRunTask(SilverTask):
    name, source, target, key = "silver.task_run", "lakeflow.job_task_run_timeline", "task_run", ("workspace_id", "run_id")

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        return _runs(spark, cfg, self.source, changes, ["job_run_id", "parent_run_id", "task_key"])


TASKS = (JobRunTask, TaskRunTask)  # silver/plan.py runs these
