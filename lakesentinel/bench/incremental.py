"""An incremental gold build after +1% data, as a fraction of a full rebuild of the same data.

A simulated organisation lands ``days`` days; bronze, silver and a full gold build follow, then one
untimed incremental build of a sliver more (to compile its plans). Then the next rows to land, ``extra``
of what is held (1% by default, a few hours of a new day with its late usage and corrections), go
through bronze and silver, and gold is built incrementally. A full rebuild of the same
final data gives the denominator. Only the gold builds are timed; the dates each task rewrote come back
with the figures.
"""

from __future__ import annotations

import time
from datetime import date

from pyspark.sql import SparkSession

from lakesentinel.gold.plan import run_gold
from lakesentinel.settings import Settings
from lakesentinel.silver.plan import run_silver
from lakesentinel.simulator.clock import DAY, from_us, to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.staged import StagedRun
from lakesentinel.streams.ingest import add_bronze
from lakesentinel.streams.supervisor import Supervisor


def _bronze_and_silver(spark: SparkSession, cfg: Settings) -> None:
    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    run_silver(spark, cfg)


def _timed(fn) -> tuple[object, float]:
    began = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - began, 2)


def run(spark: SparkSession, cfg: Settings, profile: str = "small", days: int = 10, extra: float = 0.01,
        seed: int = 5) -> dict:
    sim = Simulator(profile, seed, to_us(date(2026, 3, 2)), days + 1)
    staged = StagedRun(cfg, sim)
    staged.land_until(sim.start + days * DAY)
    base_rows = staged.rows_landed
    _bronze_and_silver(spark, cfg)
    spark.range(1).count()  # warm the session before timing
    full, full_s = _timed(lambda: run_gold(spark, cfg, full=True))
    # One untimed incremental build on a sliver of data first, so that the timed one does not pay for
    # compiling its query plans when the full rebuild it is compared with does not.
    staged.land_rows(max(1, round(base_rows * extra / 10)))
    _bronze_and_silver(spark, cfg)
    run_gold(spark, cfg)
    base_rows = staged.rows_landed
    extra_rows = staged.land_rows(max(1, round(base_rows * extra)))
    _bronze_and_silver(spark, cfg)
    incremental, incremental_s = _timed(lambda: run_gold(spark, cfg))
    rebuild, rebuild_s = _timed(lambda: run_gold(spark, cfg, full=True))
    facts = [r for r in incremental.results if r.task.startswith("gold.fact_")]
    return {
        "bench": "incremental", "profile": profile, "days": days, "seed": seed,
        "base_rows": base_rows, "extra_rows": extra_rows, "extra_share": round(extra_rows / base_rows, 4),
        "extra_until": from_us(staged.landed_until).isoformat(),
        "full_s": full_s, "incremental_s": incremental_s, "rebuild_s": rebuild_s,
        "ratio": round(incremental_s / rebuild_s, 3),
        "incremental_dates": {r.task: r.dates for r in facts},
        "dates_held": len({d for r in rebuild.results for d in r.dates}),
        "incremental_tasks": {r.task: {"mode": r.mode, "rows": r.rows_written, "seconds": round(r.seconds, 2)}
                              for r in incremental.results},
        "rebuild_tasks": {r.task: round(r.seconds, 2) for r in rebuild.results},
        "full_rows": sum(r.rows_written for r in full.results),
    }
