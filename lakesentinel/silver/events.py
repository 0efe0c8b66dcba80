"""Silver events: audit (flattened, identities normalised), query history, warehouse events."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.settings import Settings
from lakesentinel.silver.lookups import silver
from lakesentinel.silver.task import SilverTask, date_key

UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def normalised_principal(column) -> object:
    return F.lower(F.trim(column))


class AuditTask(SilverTask):
    name, source, target, key, update = "silver.audit", "access.audit", "audit", ("event_id",), False

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        # Failed logins often carry the user only in request_params.
        user = normalised_principal(F.coalesce(F.nullif(F.col("user_identity.email"), F.lit("")),
                                               F.col("request_params")["user"]))
        ip = F.col("source_ip_address")
        return changes.select(
            "event_id", "event_time", "event_date", date_key(F.col("event_date")).alias("date_key"), "account_id",
            "workspace_id", "audit_level", "version", "service_name", "action_name", "request_id", "session_id",
            user.alias("user_email"),
            F.when(user == "system-user", "system").when(user.rlike(UUID), "service_principal")
             .when(user.contains("@"), "user").otherwise("unknown").alias("principal_type"),
            "user_agent",
            # "1.2.3.4:51234" -> "1.2.3.4"; IPv6 and bare addresses pass through.
            F.when(ip.rlike(r"^\d+\.\d+\.\d+\.\d+:\d+$"), F.split(ip, ":")[0]).otherwise(ip).alias("source_ip"),
            F.col("response.status_code").alias("status_code"), F.col("response.error_message").alias("error_message"),
            F.col("response.result").alias("result"), (F.col("response.status_code") >= 400).alias("is_failure"),
            "request_params",
            normalised_principal(F.col("identity_metadata.run_by")).alias("run_by"),
            normalised_principal(F.col("identity_metadata.run_as")).alias("run_as"),
            F.col("identity_metadata.acting_resource").alias("acting_resource"),
            "_source_commit_timestamp",
        )


class QueryTask(SilverTask):
    name, source, target, key = "silver.query", "query.history", "query", ("statement_id",)

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        warehouses = silver(spark, cfg, "dim_warehouse", "workspace_id string, warehouse_id string").select(
            "workspace_id", "warehouse_id").distinct().withColumn("warehouse_known", F.lit(True))
        q = changes.select(
            "statement_id", "account_id", "workspace_id", F.col("compute.warehouse_id").alias("warehouse_id"),
            F.col("compute.cluster_id").alias("cluster_id"), F.col("compute.type").alias("compute_type"),
            normalised_principal(F.col("executed_by")).alias("executed_by"), "executed_by_user_id", "executed_as",
            "execution_status", "statement_type", "client_application", "client_driver", "total_duration_ms",
            "waiting_for_compute_duration_ms", "waiting_at_capacity_duration_ms", "execution_duration_ms",
            "compilation_duration_ms", "total_task_duration_ms", "result_fetch_duration_ms", "start_time", "end_time",
            "update_time", date_key(F.col("start_time")).alias("date_key"), "read_partitions", "pruned_files",
            "read_files", "read_rows", "produced_rows", "read_bytes", "read_io_cache_percent", "from_result_cache",
            "spilled_local_bytes", "written_bytes", "shuffle_read_bytes", "written_rows", "error_message",
            F.col("query_source.dashboard_id").alias("dashboard_id"),
            F.col("query_source.legacy_dashboard_id").alias("legacy_dashboard_id"),
            F.col("query_source.sql_query_id").alias("sql_query_id"), F.col("query_source.alert_id").alias("alert_id"),
            F.col("query_source.notebook_id").alias("notebook_id"),
            F.col("query_source.genie_space_id").alias("genie_space_id"),
            F.col("query_source.job_info.job_id").alias("source_job_id"),
            F.col("query_source.job_info.job_run_id").alias("source_job_run_id"),
            F.col("query_source.job_info.job_task_run_id").alias("source_job_task_run_id"),
            F.col("query_source.pipeline_info.pipeline_id").alias("source_pipeline_id"),
            "query_tags", "_source_commit_timestamp",
        )
        return (q.join(warehouses, ["workspace_id", "warehouse_id"], "left")
                 .withColumn("warehouse_known", F.coalesce("warehouse_known", F.lit(False))))


class WarehouseEventTask(SilverTask):
    name, source, target = "silver.warehouse_event", "compute.warehouse_events", "warehouse_event"
    key, update = ("workspace_id", "warehouse_id", "event_time", "event_type"), False

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        return changes.select("account_id", "workspace_id", "warehouse_id", "event_type", "cluster_count",
                              "event_time", date_key(F.col("event_time")).alias("date_key"), "_source_commit_timestamp")


TASKS = (AuditTask, QueryTask, WarehouseEventTask)  # silver/plan.py runs these
