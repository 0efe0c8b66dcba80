"""The silver layer as a whole: dimensions first (usage inherits their tags), then events and runs."""

from __future__ import annotations


from pyspark.sql import SparkSession

from lakesentinel.settings import Settings
from lakesentinel.silver.dimensions import dimension_tasks
from lakesentinel.silver import events, runs
from lakesentinel.silver.task import SilverTask, TaskResult
from lakesentinel.silver.usage import UsageTask
from lakesentinel.session import run_side_by_side, scheduler_pool
from lakesentinel.streams.supervisor import Supervisor


def silver_tasks() -> list[SilverTask]:
    """Dimensions, then usage (it inherits their tags), then every task the event and run modules list."""
    return [*dimension_tasks(), UsageTask(), *(task() for task in (*events.TASKS, *runs.TASKS))]


def run_silver(spark: SparkSession, cfg: Settings) -> list[TaskResult]:
    """Every silver task once: the dimensions, then the tasks that join them (usage, events, runs), the
    tasks of each phase side by side (``silver.parallel_tasks``). Results in plan order."""
    tasks = silver_tasks()
    dimensions = [t for t in tasks if t.name.startswith("silver.dim_")]
    joined = [t for t in tasks if t not in dimensions]
    done: dict[str, TaskResult] = {}
    for phase in (dimensions, joined):
        results = run_side_by_side(spark, phase, lambda t: t.run(spark, cfg), cfg.silver.parallel_tasks, "silver")
        done.update({t.name: r for t, r in zip(phase, results)})
    return [done[t.name] for t in tasks]


def add_silver(supervisor: Supervisor, spark: SparkSession, cfg: Settings) -> Supervisor:
    for task in silver_tasks():
        supervisor.add_task(task.name, lambda t=task: _run(spark, cfg, t), cfg.silver.interval_s)
    return supervisor


def _run(spark: SparkSession, cfg: Settings, task: SilverTask) -> TaskResult:
    with scheduler_pool(spark, "background"):  # curation yields the machine to landing and scoring
        return task.run(spark, cfg)
