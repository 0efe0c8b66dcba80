"""The silver layer as a whole: dimensions first (usage inherits their tags), then events and runs."""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakesentinel.settings import Settings
from lakesentinel.silver.dimensions import dimension_tasks
from lakesentinel.silver import events, runs
from lakesentinel.silver.task import SilverTask, TaskResult
from lakesentinel.silver.usage import UsageTask
from lakesentinel.session import scheduler_pool
from lakesentinel.streams.supervisor import Supervisor


def silver_tasks() -> list[SilverTask]:
    """Dimensions, then usage (it inherits their tags), then every task the event and run modules list."""
    return [*dimension_tasks(), UsageTask(), *(task() for task in (*events.TASKS, *runs.TASKS))]


def run_silver(spark: SparkSession, cfg: Settings) -> list[TaskResult]:
    """Every silver task once, in dependency order."""
    return [task.run(spark, cfg) for task in silver_tasks()]


def add_silver(supervisor: Supervisor, spark: SparkSession, cfg: Settings) -> Supervisor:
    for task in silver_tasks():
        supervisor.add_task(task.name, lambda t=task: _run(spark, cfg, t), cfg.silver.interval_s)
    return supervisor


def _run(spark: SparkSession, cfg: Settings, task: SilverTask) -> TaskResult:
    with scheduler_pool(spark, "background"):  # curation yields the machine to landing and scoring
        return task.run(spark, cfg)
