"""fact_job_run and fact_task_run: silver runs with the job and task versions in force when they started.

A job run's cost is the usage billed with its ``job_run_id`` (job clusters and serverless). That usage
can land a day or more after the run started, so usage changes also reopen the run's start date.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakesentinel.gold.refs import JOB, TASK, WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key

FAILED_STATES = ("FAILED", "TIMED_OUT", "ERROR")


def _in(rows: DataFrame, dates: list[int] | None) -> DataFrame:
    return rows if dates is None else rows.where(F.col("date_key").isin(dates))


def run_dates_of_usage(build: Build, usage: DataFrame) -> DataFrame:
    """Start dates of the job runs that changed usage rows are billed to."""
    billed = usage.where("job_run_id IS NOT NULL").select("workspace_id", F.col("job_run_id").alias("run_id")).distinct()
    return build.silver("job_run").join(billed, ["workspace_id", "run_id"], "left_semi").select("date_key")


class JobRunFacts(FactTask):
    name, tables = "gold.fact_job_run", ("fact_job_run",)
    date_sources = {"job_run": by_date_key, "usage": run_dates_of_usage}
    dimensions = (DimensionUse(WORKSPACE, "job_run", WORKSPACE.natural, "start_time"),
                  DimensionUse(JOB, "job_run", JOB.natural, "start_time"))

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        runs = _in(build.silver("job_run"), dates)
        usage = build.silver("usage").where("job_run_id IS NOT NULL")
        if dates is not None:
            # Usage never starts before its run; a run's usage can start days after it, so no upper bound.
            usage = usage.where(F.col("date_key") >= min(dates))
        cost = (usage.join(runs.select("workspace_id", F.col("run_id").alias("job_run_id")),
                           ["workspace_id", "job_run_id"], "left_semi")
                .groupBy("workspace_id", F.col("job_run_id").alias("run_id"))
                .agg(F.sum("usage_quantity").cast("decimal(38,18)").alias("usage_quantity"),
                     F.sum("list_cost").cast("decimal(38,18)").alias("list_cost")))
        rows = (runs.join(cost, ["workspace_id", "run_id"], "left")
                .withColumn("is_failed", F.col("result_state").isin(*FAILED_STATES)))
        rows = WORKSPACE.attach(rows, build.gold("dim_workspace"), "start_time")
        return {"fact_job_run": JOB.attach(rows, build.gold("dim_job"), "start_time")}


class TaskRunFacts(FactTask):
    name, tables = "gold.fact_task_run", ("fact_task_run",)
    date_sources = {"task_run": by_date_key}
    dimensions = (DimensionUse(WORKSPACE, "task_run", WORKSPACE.natural, "start_time"),
                  DimensionUse(JOB, "task_run", JOB.natural, "start_time"),
                  DimensionUse(TASK, "task_run", TASK.natural, "start_time"))

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        rows = (_in(build.silver("task_run"), dates)
                .withColumn("is_failed", F.col("result_state").isin(*FAILED_STATES)))
        rows = WORKSPACE.attach(rows, build.gold("dim_workspace"), "start_time")
        rows = JOB.attach(rows, build.gold("dim_job"), "start_time")
        return {"fact_task_run": TASK.attach(rows, build.gold("dim_task"), "start_time")}
