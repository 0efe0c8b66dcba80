"""One silver task: read bronze changes from its offset, transform, check, write, record, advance.

The offset moves only after the write, and writes are MERGEs on natural keys, so a task interrupted at
any point re-reads and rewrites the same batch without losing or doubling a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.silver import quality
from lakesentinel.silver.changes import read_changes
from lakesentinel.streams.bronze import bronze_name
from lakesentinel.streams.offsets import Offsets

CDF_ON = {"delta.enableChangeDataFeed": "true"}


@dataclass(frozen=True)
class TaskResult:
    task: str
    rows_read: int
    rows_written: int
    rows_quarantined: int = 0
    start_version: int | None = None
    end_version: int | None = None


def merge_on(spark: SparkSession, target: str, rows: DataFrame, key: tuple[str, ...], update: bool = True) -> None:
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in key)
    merge = DeltaTable.forName(spark, target).alias("t").merge(rows.alias("s"), on)
    if update:
        merge = merge.whenMatchedUpdateAll()
    merge.whenNotMatchedInsertAll().execute()


class SilverTask:
    """Subclasses set the names and implement ``transform``; the rest is shared."""

    name: str = ""  # e.g. "silver.usage": the offset key in plt_ops.processing_state
    source: str = ""  # system table whose bronze copy feeds the task
    target: str = ""  # silver table, e.g. "usage"
    key: tuple[str, ...] = ()
    update: bool = True  # MERGE updates matched rows (False: insert-only)

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        raise NotImplementedError

    def write(self, spark: SparkSession, cfg: Settings, target: str, rows: DataFrame) -> None:
        merge_on(spark, target, rows, self.key, self.update)

    def after_write(self, spark: SparkSession, cfg: Settings, target: str, rows: DataFrame) -> None:
        """Hook for follow-up updates (e.g. marking retracted usage)."""

    def target_name(self, cfg: Settings) -> str:
        return Lakehouse(cfg).name("silver", self.target)

    def run(self, spark: SparkSession, cfg: Settings) -> TaskResult:
        lh = Lakehouse(cfg)
        offsets = Offsets(spark, cfg)
        bronze = lh.ensure(spark, bronze_name(cfg, self.source))
        if not spark.catalog.tableExists(bronze):
            return TaskResult(self.name, 0, 0)
        changes = read_changes(spark, offsets, self.name, bronze)
        if changes is None:
            return TaskResult(self.name, 0, 0)
        source_rows = changes.rows.persist()
        try:
            read = source_rows.count()
            rows = self.transform(spark, cfg, source_rows)
            checks = quality.load_checks(cfg.paths.resolve("quality")).get(self.target, [])
            outcome = quality.apply(rows, checks)
            target = lh.create_table(spark, self.target_name(cfg), outcome.valid.schema, properties=CDF_ON)
            if outcome.valid_count:
                self.write(spark, cfg, target, outcome.valid)
                self.after_write(spark, cfg, target, outcome.valid)
            if outcome.quarantined_count:
                holding = lh.create_table(spark, lh.name("silver", f"{self.target}_quarantine"),
                                          outcome.quarantined.schema,
                                          comment=f"Rows of {self.target} that failed error-level checks")
                merge_on(spark, holding, outcome.quarantined, self.key, update=True)
            quality.record(spark, cfg, task=self.name, table=self.target, start_version=changes.start_version,
                           end_version=changes.end_version, outcome=outcome)
            offsets.put(self.name, bronze, last_cdf_version=changes.end_version, rows_read=read,
                        rows_written=outcome.valid_count)
            return TaskResult(self.name, read, outcome.valid_count, outcome.quarantined_count,
                              changes.start_version, changes.end_version)
        finally:
            source_rows.unpersist()


def date_key(col) -> object:
    return F.date_format(col, "yyyyMMdd").cast("int")
