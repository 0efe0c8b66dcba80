"""Bronze for sources Databricks does not stream: high-water-mark and snapshot batches.

HWM (query history): each run re-reads the source from the high-water mark minus a 48-72 hour overlap,
so rows that land late are still picked up, and MERGEs on the natural key, so rows read twice are not
doubled. Snapshot (list prices, workspaces, node types; small tables updated in place): each run reads
the whole source and MERGEs the rows that are new or changed. Both pass only new or changed rows on to
hooks, and keep their position in ``plt_ops.processing_state`` under their own task name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SYSTEM_TABLES
from lakesentinel.streams.bronze import METADATA, BatchContext, Hook, check_drift, ensure_bronze
from lakesentinel.streams.offsets import Offsets


@dataclass(frozen=True)
class IngestResult:
    system_table: str
    rows_read: int
    rows_written: int
    hwm: datetime | None = None


def _row_hash(columns: list[str]):
    return F.md5(F.to_json(F.struct(*[F.col(f"`{c}`") for c in columns])))


def _context(spark: SparkSession, system_table: str, target: str) -> BatchContext:
    """Hooks see the bronze version the batch will build on as its batch id: it grows with every
    batch that changes bronze and repeats when a batch is re-run after a crash (replay-safe hooks)."""
    version = DeltaTable.forName(spark, target).history(1).select("version").first()[0]
    return BatchContext(system_table, int(version), f"lakesentinel.bronze.{system_table}.batch")


def _merge(spark: SparkSession, target: str, changed: DataFrame, key: tuple[str, ...]) -> None:
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in key)
    (DeltaTable.forName(spark, target).alias("t").merge(changed.alias("s"), on)
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())


def _source_rows(spark: SparkSession, cfg: Settings, system_table: str) -> DataFrame:
    lh = Lakehouse(cfg)
    name = lh.source(system_table)
    return (lh.read(spark, name)
            .withColumn("_ingested_at", F.current_timestamp())
            .withColumn("_source_table", F.lit(name))
            .withColumn("_source_commit_version", F.lit(None).cast("bigint"))
            # The data file's write time: when the row landed in the source, to the second.
            .withColumn("_source_commit_timestamp", F.col("_metadata.file_modification_time")))


def ingest_hwm(spark: SparkSession, cfg: Settings, system_table: str, *, hooks: Iterable[Hook] = (),
               task: str = "bronze") -> IngestResult:
    table = SYSTEM_TABLES[system_table]
    target = ensure_bronze(spark, cfg, system_table)
    check_drift(spark, cfg, system_table)
    offsets = Offsets(spark, cfg)
    source = Lakehouse(cfg).source(system_table)
    time_col = table.event_time
    start = offsets.get(task, source).hwm_timestamp
    rows = _source_rows(spark, cfg, system_table)
    current = spark.table(target).select(*table.natural_key, F.col(time_col).alias("_seen"))
    if start is not None:
        lower = start - timedelta(hours=cfg.hwm.overlap_hours)
        rows = rows.where(F.col(time_col) >= F.lit(lower))
        current = current.where(F.col("_seen") >= F.lit(lower))
    rows = rows.persist()
    try:
        stats = rows.agg(F.count("*").alias("n"), F.max(time_col).alias("hwm")).first()
        # A row seen before with an older update time is an update; unseen rows are new.
        changed = (rows.join(current, list(table.natural_key), "left")
                   .where(F.col("_seen").isNull() | (F.col(time_col) > F.col("_seen"))).drop("_seen")
                   .persist())
        written = changed.count()
        # Only a batch that changes bronze advances its version: an empty one must not look like a
        # replay of the previous batch to the hooks.
        if hooks and written:
            context = _context(spark, system_table, target)
            for hook in hooks:
                hook(changed, context)
        if written:
            _merge(spark, target, changed, table.natural_key)
        changed.unpersist()
        hwm = max(filter(None, [start, stats["hwm"]]), default=None)
        offsets.put(task, source, hwm_timestamp=hwm, rows_read=stats["n"], rows_written=written)
        return IngestResult(system_table, stats["n"], written, hwm)
    finally:
        rows.unpersist()


def ingest_snapshot(spark: SparkSession, cfg: Settings, system_table: str, *, hooks: Iterable[Hook] = (),
                    task: str = "bronze") -> IngestResult:
    table = SYSTEM_TABLES[system_table]
    target = ensure_bronze(spark, cfg, system_table)
    check_drift(spark, cfg, system_table)
    source = Lakehouse(cfg).source(system_table)
    columns = [c for c in spark.table(target).columns if c not in METADATA]
    rows = _source_rows(spark, cfg, system_table).withColumn("_h", _row_hash(columns)).persist()
    try:
        current = spark.table(target).select(*table.natural_key, _row_hash(columns).alias("_seen"))
        changed = (rows.join(current, list(table.natural_key), "left")
                   .where(F.col("_seen").isNull() | (F.col("_seen") != F.col("_h")))
                   .drop("_seen", "_h").persist())
        read, written = rows.count(), changed.count()
        # Only a batch that changes bronze advances its version: an empty one must not look like a
        # replay of the previous batch to the hooks.
        if hooks and written:
            context = _context(spark, system_table, target)
            for hook in hooks:
                hook(changed, context)
        if written:
            _merge(spark, target, changed, table.natural_key)
        changed.unpersist()
        Offsets(spark, cfg).put(task, source, rows_read=read, rows_written=written)
        return IngestResult(system_table, read, written)
    finally:
        rows.unpersist()


BATCH_INGEST = {"hwm": ingest_hwm, "snapshot": ingest_snapshot}
