"""fact_cost_hourly and fact_cost_daily: silver usage grouped by hour (and day) and billed resource.

Every usage record counts (originals, retractions, restatements), so the sums net corrections as
Databricks intends and the daily fact reconciles with silver to the cent. Each row points at the
dimension versions in force when its usage started; records of one group whose usage started under
different versions land in different rows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakesentinel.gold.dimensions import usage_principal
from lakesentinel.gold.keys import DimensionRef, user_key
from lakesentinel.gold.refs import CLUSTER, JOB, NODE_TYPE, PIPELINE, SKU, WAREHOUSE, WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key

# The fact's columns for each dimension (usage calls the pipeline dlt_pipeline_id; gold renames it).
COST_REFS: tuple[DimensionRef, ...] = (WORKSPACE, JOB, PIPELINE, CLUSTER, WAREHOUSE, NODE_TYPE, SKU)
_SILVER_COLUMNS = {"dim_pipeline": ("workspace_id", "dlt_pipeline_id")}

GROUP = ("date_key", "account_id", "workspace_id", "workspace_key", "sku_name", "sku_key", "cloud", "usage_unit",
         "currency_code", "billing_origin_product", "usage_type", "job_id", "job_key", "pipeline_id",
         "pipeline_key", "warehouse_id", "warehouse_key", "cluster_id", "cluster_key", "node_type", "node_type_key",
         "principal_name", "user_key", "is_serverless", "is_photon", "tags_key")


def sorted_tags(tags) -> object:
    return F.map_from_entries(F.array_sort(F.map_entries(tags)))


def usage_rows(build: Build, dates: list[int] | None) -> DataFrame:
    """Silver usage of ``dates`` with the fact's columns and every dimension key attached."""
    usage = build.silver("usage")
    if dates is not None:
        usage = usage.where(F.col("date_key").isin(dates))
    sign = F.when(F.col("record_type") == "RETRACTION", -1).otherwise(1)
    rows = usage.select(
        "date_key", F.date_trunc("hour", "usage_start_time").alias("hour_start"), "usage_start_time",
        "account_id", "workspace_id", "sku_name", "cloud", "usage_unit", "currency_code", "billing_origin_product",
        "usage_type", "job_id", F.col("dlt_pipeline_id").alias("pipeline_id"), "warehouse_id", "cluster_id",
        "node_type", F.lower(F.trim(usage_principal())).alias("principal_name"), "is_serverless", "is_photon",
        sorted_tags(F.col("tags")).alias("tags"), "missing_tags", "is_untagged", "usage_quantity", "list_cost",
        (sign * (F.unix_micros("usage_end_time") - F.unix_micros("usage_start_time")) / 3.6e9).alias("billed_hours"),
        (F.col("record_type") != "ORIGINAL").alias("is_correction"), (~F.col("price_found")).alias("is_unpriced"))
    rows = rows.withColumn("user_key", user_key(F.col("principal_name"))) \
               .withColumn("tags_key", F.md5(F.to_json("tags")))
    for ref in COST_REFS:
        rows = ref.attach(rows, build.gold(ref.dimension), "usage_start_time")
    return rows


def aggregate(rows: DataFrame, grain: tuple[str, ...]) -> DataFrame:
    return rows.groupBy(*grain, *GROUP).agg(
        F.first("tags").alias("tags"), F.first("missing_tags").alias("missing_tags"),
        F.first("is_untagged").alias("is_untagged"),
        F.sum("usage_quantity").cast("decimal(38,18)").alias("usage_quantity"),
        F.sum("list_cost").cast("decimal(38,18)").alias("list_cost"),
        F.sum("billed_hours").alias("billed_hours"),
        F.sum("record_count").alias("record_count"), F.sum("correction_count").alias("correction_count"),
        F.sum("unpriced_count").alias("unpriced_count"),
        F.min("first_usage_start").alias("first_usage_start"), F.max("last_usage_start").alias("last_usage_start"))


class CostFacts(FactTask):
    name = "gold.fact_cost"
    tables = ("fact_cost_hourly", "fact_cost_daily")
    date_sources = {"usage": by_date_key}
    dimensions = tuple(DimensionUse(ref, "usage", _SILVER_COLUMNS.get(ref.dimension, ref.natural), "usage_start_time")
                       for ref in COST_REFS)

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        records = usage_rows(build, dates).select(
            "*", F.lit(1).cast("bigint").alias("record_count"),
            F.col("is_correction").cast("bigint").alias("correction_count"),
            F.col("is_unpriced").cast("bigint").alias("unpriced_count"),
            F.col("usage_start_time").alias("first_usage_start"), F.col("usage_start_time").alias("last_usage_start"))
        hourly = aggregate(records, ("hour_start",))
        daily = aggregate(hourly, ())
        return {"fact_cost_hourly": hourly, "fact_cost_daily": daily}
