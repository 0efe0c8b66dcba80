"""Silver usage: flattened, tags inherited Job -> Cluster -> Usage, priced at list, corrections applied.

Every record is kept (ORIGINAL, RETRACTION, RESTATEMENT), so summing ``usage_quantity`` or ``list_cost``
over all rows nets corrections as Databricks intends. ``is_retracted`` marks originals that a later
retraction cancelled, for views that want only the current version of each usage window.
"""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.settings import Settings
from lakesentinel.silver import tags
from lakesentinel.silver.lookups import optional_table, silver
from lakesentinel.silver.task import SilverTask, date_key
from lakesentinel.sources import pricing
from lakesentinel.sources.system_tables import USAGE
from lakesentinel.streams.bronze import bronze_name

METADATA_FIELDS = [f.name for f in USAGE.schema["usage_metadata"].dataType.fields]
FEATURES = ("is_serverless", "is_photon", "jobs_tier", "sql_tier", "dlt_tier", "serving_type", "performance_target")
VERSIONED_TAGS = "workspace_id string, {id} string, valid_from timestamp, valid_to timestamp, tags map<string,string>"


def prices(spark: SparkSession, cfg: Settings) -> DataFrame:
    """Bronze ``billing.list_prices`` as :func:`lakesentinel.sources.pricing.price_table` wants it."""
    table = bronze_name(cfg, "billing.list_prices")
    empty = ("sku_name string, cloud string, usage_unit string, currency_code string, price_start_time timestamp, "
             "price_end_time timestamp, pricing struct<default: decimal(38,18), promotional: struct<default: "
             "decimal(38,18)>, effective_list: struct<default: decimal(38,18)>>")
    return pricing.price_table(optional_table(spark, cfg, table, empty))


class UsageTask(SilverTask):
    name, source, target, key = "silver.usage", "billing.usage", "usage", ("record_id",)

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        aliases, required = cfg.silver.tags.aliases, cfg.silver.tags.required
        u = changes.select(
            "record_id", "account_id", "workspace_id", "sku_name", "cloud", "usage_start_time", "usage_end_time",
            "usage_date", date_key(F.col("usage_date")).alias("date_key"), "usage_unit", "usage_quantity",
            "record_type", "ingestion_date", "billing_origin_product", "usage_type",
            *[F.col(f"usage_metadata.{f}").alias(f) for f in METADATA_FIELDS],
            *[F.col(f"identity_metadata.{f}").alias(f"identity_{f}") for f in ("run_as", "created_by", "owned_by", "run_by")],
            *[F.col(f"product_features.{f}").alias(f) for f in FEATURES],
            tags.normalise(F.col("custom_tags"), aliases).alias("custom_tags"),
            # Same value on an original and the retraction/restatement that correct it.
            F.sha2(F.to_json(F.struct("workspace_id", "sku_name", "cloud", "usage_start_time", "usage_end_time",
                                      "usage_unit", "usage_metadata", "identity_metadata")), 256).alias("correction_key"),
            "_source_commit_timestamp", "_ingested_at",
        )
        jobs = silver(spark, cfg, "dim_job", VERSIONED_TAGS.format(id="job_id")).select(
            "workspace_id", F.col("job_id").alias("_job_id"), F.col("valid_from").alias("_jf"),
            F.col("valid_to").alias("_jt"), F.col("tags").alias("job_tags"))
        clusters = silver(spark, cfg, "dim_cluster", VERSIONED_TAGS.format(id="cluster_id")).select(
            "workspace_id", F.col("cluster_id").alias("_cluster_id"), F.col("valid_from").alias("_cf"),
            F.col("valid_to").alias("_ct"), F.col("tags").alias("cluster_tags"))
        # Point in time: the job and cluster versions in force when the usage started.
        u = (u.join(jobs, (u.workspace_id == jobs.workspace_id) & (u.job_id == jobs._job_id)
                    & (u.usage_start_time >= jobs._jf) & (u.usage_start_time < jobs._jt), "left").drop(jobs.workspace_id)
             .join(clusters, (u.workspace_id == clusters.workspace_id) & (u.cluster_id == clusters._cluster_id)
                   & (u.usage_start_time >= clusters._cf) & (u.usage_start_time < clusters._ct), "left")
             .drop(clusters.workspace_id).drop("_job_id", "_jf", "_jt", "_cluster_id", "_cf", "_ct"))
        u = u.withColumn("tags", tags.inherit(aliases, F.col("custom_tags"), F.col("job_tags"), F.col("cluster_tags")))
        u = (u.withColumn("missing_tags", tags.missing(F.col("tags"), required))
              .withColumn("is_untagged", F.size("missing_tags") == len(required)).drop("job_tags", "cluster_tags"))
        u = pricing.price_usage(u, prices(spark, cfg))
        workspaces = silver(spark, cfg, "dim_workspace", "workspace_id string").select("workspace_id").distinct()
        return (u.withColumn("price_found", F.col("list_price").isNotNull())
                 .join(workspaces.withColumn("workspace_known", F.lit(True)), "workspace_id", "left")
                 .withColumn("workspace_known", F.coalesce("workspace_known", F.lit(False)))
                 .withColumn("is_retracted", F.lit(False)))

    def write(self, spark: SparkSession, cfg: Settings, target: str, rows: DataFrame) -> None:
        # Re-processing must not undo a retraction mark set by a later batch.
        columns = [c for c in rows.columns if c != "is_retracted"]
        (DeltaTable.forName(spark, target).alias("t").merge(rows.alias("s"), "t.record_id = s.record_id")
         .whenMatchedUpdate(set={c: f"s.`{c}`" for c in columns}).whenNotMatchedInsertAll().execute())

    def after_write(self, spark: SparkSession, cfg: Settings, target: str, rows: DataFrame) -> None:
        keys = rows.where("record_type = 'RETRACTION'").select("correction_key").distinct()
        if keys.limit(1).count():
            (DeltaTable.forName(spark, target).alias("t")
             .merge(keys.alias("s"), "t.correction_key = s.correction_key AND t.record_type = 'ORIGINAL'")
             .whenMatchedUpdate(set={"is_retracted": "true"}).execute())
