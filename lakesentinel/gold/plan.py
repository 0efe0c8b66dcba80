"""The gold build as a whole: dimensions, then facts, then the calendar they reach, then the views."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from lakesentinel.gold import ddl
from lakesentinel.gold.config import GoldSettings, load_gold_settings
from lakesentinel.gold.dimensions import dimension_tasks, extend_calendar
from lakesentinel.gold.facts import fact_tasks
from lakesentinel.gold.task import Build, FactTask, GoldTask, TaskResult
from lakesentinel.session import run_side_by_side, scheduler_pool
from lakesentinel.settings import Settings
from lakesentinel.streams.supervisor import Supervisor


@dataclass
class BuildReport:
    build_id: str
    full: bool
    results: list[TaskResult] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def result(self, task: str) -> TaskResult:
        return next(r for r in self.results if r.task == task)

    def summary(self) -> dict:
        return {"build_id": self.build_id, "full": self.full, "seconds": round(self.seconds, 2),
                "tasks": {r.task: {"mode": r.mode, "dates": r.dates, "rows": r.rows_written,
                                   "seconds": round(r.seconds, 2), **({"reason": r.reason} if r.reason else {})}
                          for r in self.results},
                "views": self.views}


def gold_tasks() -> list[GoldTask]:
    return [*dimension_tasks(), *fact_tasks()]


def run_gold(spark: SparkSession, cfg: Settings, full: bool = False, settings: GoldSettings | None = None,
             tasks: list[GoldTask] | None = None, views: bool = True) -> BuildReport:
    """Build gold once: incrementally from each task's offsets, or everything with ``full``."""
    began = time.perf_counter()
    build = Build(spark, cfg, full, settings or load_gold_settings(cfg))
    tasks = gold_tasks() if tasks is None else tasks
    # Pin every input before the first task reads, so all tasks see the same versions.
    build.snapshot.pin(sorted({s for t in tasks for s in t.sources(build)}))
    report = BuildReport(build.build_id, full)
    report.results.extend(_run_phases(build, tasks))
    dates = sorted({d for r in report.results for d in r.dates})
    report.results.append(extend_calendar(build, dates))
    if views:
        report.views = [v.view for v in ddl.apply_views(spark, cfg)]
    report.seconds = time.perf_counter() - began
    return report


def _run_phases(build: Build, tasks: list[GoldTask]) -> list[TaskResult]:
    """Dimensions, then facts (they attach the dimensions' new versions); the tasks of one phase read
    only pinned sources and earlier phases, so they run side by side. Results in task order."""
    results: list[TaskResult] = []
    for is_fact in (False, True):
        chosen = [t for t in tasks if isinstance(t, FactTask) == is_fact]
        results.extend(run_side_by_side(build.spark, chosen, lambda t: t.run(build), build.settings.parallel_tasks, "gold"))
    return results


def add_gold(supervisor: Supervisor, spark: SparkSession, cfg: Settings) -> Supervisor:
    def build() -> dict:
        with scheduler_pool(spark, "background"):  # like silver, gold yields to landing and scoring
            return run_gold(spark, cfg).summary()

    supervisor.add_task("gold.build", build, load_gold_settings(cfg).interval_s)
    return supervisor
