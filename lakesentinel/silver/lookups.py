"""Reading silver and bronze tables that a task joins against, tolerating ones not built yet."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings


def optional_table(spark: SparkSession, cfg: Settings, name: str, empty_schema: str) -> DataFrame:
    """The table if it exists, else an empty frame of ``empty_schema`` (first runs, partial set-ups)."""
    lh = Lakehouse(cfg)
    if lh.exists(spark, name):
        return spark.table(name)
    return spark.createDataFrame([], empty_schema)


def silver(spark: SparkSession, cfg: Settings, table: str, empty_schema: str) -> DataFrame:
    return optional_table(spark, cfg, Lakehouse(cfg).name("silver", table), empty_schema)
