"""Incremental reads of a table's change feed, with the offset kept per task."""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.streams.offsets import Offsets

CHANGE_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")


@dataclass(frozen=True)
class Changes:
    rows: DataFrame  # inserted rows and update post-images, change-feed columns kept
    table: str
    start_version: int
    end_version: int


def latest_version(spark: SparkSession, table: str) -> int:
    return DeltaTable.forName(spark, table).history(1).select("version").first()[0]


def read_changes(spark: SparkSession, offsets: Offsets, task: str, table: str) -> Changes | None:
    """Rows committed to ``table`` after this task's offset (None when nothing is new)."""
    last = offsets.get(task, table).last_cdf_version
    end = latest_version(spark, table)
    start = 0 if last is None else last + 1
    if start > end:
        return None
    rows = (spark.read.format("delta").option("readChangeFeed", "true")
            .option("startingVersion", start).option("endingVersion", end).table(table)
            .where(F.col("_change_type").isin("insert", "update_postimage")))
    return Changes(rows, table, start, end)
