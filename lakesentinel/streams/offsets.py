"""Per-task offsets in ``plt_ops.processing_state``: a high-water mark and a change-feed version.

Offsets are keyed by (task, source), so jobs that build different things from the same table keep
their own positions and never step on each other. Tasks of different lanes (bronze batches, silver,
gold) run in threads side by side: their writes to the one table go in turn, or two MERGEs in flight
would fail each other's commit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

SCHEMA = ("task STRING, source STRING, hwm_timestamp TIMESTAMP, last_cdf_version BIGINT, updated_at TIMESTAMP, "
          "rows_read BIGINT, rows_written BIGINT")


WRITES = threading.RLock()


@dataclass(frozen=True)
class Offset:
    hwm_timestamp: datetime | None
    last_cdf_version: int | None


class Offsets:
    def __init__(self, spark: SparkSession, cfg: Settings):
        self.spark = spark
        lh = Lakehouse(cfg)
        with WRITES:
            self.table = lh.create_table(spark, lh.name("ops", "processing_state"), SCHEMA,
                                         comment="Offsets per task and source: high-water mark, change-feed version")

    def get(self, task: str, source: str) -> Offset:
        row = (self.spark.table(self.table).where(f"task = '{task}' AND source = '{source}'")
               .select("hwm_timestamp", "last_cdf_version").first())
        return Offset(row[0], row[1]) if row else Offset(None, None)

    def put(self, task: str, source: str, *, hwm_timestamp: datetime | None = None,
            last_cdf_version: int | None = None, rows_read: int = 0, rows_written: int = 0) -> None:
        update = self.spark.createDataFrame(
            [(task, source, hwm_timestamp, last_cdf_version, rows_read, rows_written)],
            "task string, source string, hwm_timestamp timestamp, last_cdf_version bigint, "
            "rows_read bigint, rows_written bigint")
        with WRITES:
            self._merge(update)

    def _merge(self, update) -> None:
        (DeltaTable.forName(self.spark, self.table).alias("t")
         .merge(update.alias("s"), "t.task = s.task AND t.source = s.source")
         .whenMatchedUpdate(set={
             "hwm_timestamp": "coalesce(s.hwm_timestamp, t.hwm_timestamp)",
             "last_cdf_version": "coalesce(s.last_cdf_version, t.last_cdf_version)",
             "updated_at": "current_timestamp()", "rows_read": "s.rows_read", "rows_written": "s.rows_written"})
         .whenNotMatchedInsert(values={
             "task": "s.task", "source": "s.source", "hwm_timestamp": "s.hwm_timestamp",
             "last_cdf_version": "s.last_cdf_version", "updated_at": "current_timestamp()",
             "rows_read": "s.rows_read", "rows_written": "s.rows_written"})
         .execute())
