"""Throughput of the hot path (bronze and rules scoring) beside a plain Delta-to-Delta copy of the same rows.

Both read the same source tables from the start with ``availableNow``. The hot path is what the
monitor runs: the change-feed read, ingest metadata, the rules engine on each micro-batch (alerts
written first) and idempotent ``foreachBatch`` writes to bronze. The copy is ``readStream ->
writeStream`` with nothing else. The ratio says what lakesentinel's guarantees and scoring cost.
"""

from __future__ import annotations

import time
from datetime import date

from pyspark.sql import SparkSession

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.context import Context
from lakesentinel.monitor import MonitorOptions
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch
from lakesentinel.streams.bronze import bronze_name, start_bronze_stream

TABLES = ("access.audit", "billing.usage", "lakeflow.job_task_run_timeline", "lakeflow.job_run_timeline")


def _copy(spark: SparkSession, cfg: Settings, system_table: str) -> int:
    lh = Lakehouse(cfg)
    source = lh.ensure(spark, lh.source(system_table))
    target = lh.location(lh.name("ops", "bench_copy_" + system_table.replace(".", "_")))
    query = (spark.readStream.format("delta").table(source).writeStream.format("delta")
             .option("checkpointLocation", lh.checkpoint("bench.copy." + system_table))
             .trigger(availableNow=True).start(target))
    query.awaitTermination()
    return spark.read.format("delta").load(target).count()


def _bronze(spark: SparkSession, cfg: Settings, system_table: str, monitor) -> int:
    query = start_bronze_stream(spark, cfg, system_table, scheduled=True, hooks=monitor.hooks(system_table))
    query.awaitTermination()
    # Rows landed, not the progress's numInputRows: the rules read each batch too, and Spark counts
    # a source's rows once per action on the batch.
    return spark.table(bronze_name(cfg, system_table)).count()


def run(spark: SparkSession, cfg: Settings, profile: str = "medium", days: int = 3) -> dict:
    summary = run_batch(cfg, Simulator(profile, 3, to_us(date(2026, 3, 2)), days))
    monitor = Context(cfg, spark=spark).monitor(MonitorOptions(silver=False, detectors=False, lifecycle=False,
                                                               worker=False))
    monitor.build()  # loads and compiles the rule packs
    spark.range(1).count()  # warm the session before timing
    result = {"bench": "throughput", "profile": profile, "days": days, "tables": {}}
    totals = {"bronze_rows": 0, "bronze_s": 0.0, "copy_rows": 0, "copy_s": 0.0}
    for table in TABLES:
        began = time.perf_counter()
        copied = _copy(spark, cfg, table)
        copy_s = time.perf_counter() - began
        began = time.perf_counter()
        ingested = _bronze(spark, cfg, table, monitor)
        bronze_s = time.perf_counter() - began
        result["tables"][table] = {"rows": summary.rows[table], "bronze_rows": ingested, "bronze_s": round(bronze_s, 2),
                                   "copy_rows": copied, "copy_s": round(copy_s, 2)}
        totals["bronze_rows"] += ingested
        totals["bronze_s"] += bronze_s
        totals["copy_rows"] += copied
        totals["copy_s"] += copy_s
    result["bronze_rows_per_s"] = round(totals["bronze_rows"] / totals["bronze_s"])
    result["copy_rows_per_s"] = round(totals["copy_rows"] / totals["copy_s"])
    result["events_per_s"] = result["bronze_rows_per_s"]
    result["ratio_to_copy"] = round(result["bronze_rows_per_s"] / result["copy_rows_per_s"], 3)
    return result
