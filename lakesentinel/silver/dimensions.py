"""SCD2 dimensions built from bronze: workspaces, jobs, job tasks, pipelines, clusters, warehouses, node types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.settings import Settings
from lakesentinel.silver import tags
from lakesentinel.silver.scd2 import FAR_FUTURE, attribute_hash, merge_versions
from lakesentinel.silver.task import SilverTask

Attr = str | Callable[[Settings], Column]


def _tags(column: str) -> Callable[[Settings], Column]:
    return lambda cfg: tags.normalise(F.col(column), cfg.silver.tags.aliases)


@dataclass(frozen=True)
class Dimension:
    target: str
    source: str
    key: tuple[str, ...]
    valid_from: str  # SQL expression of the version time
    attributes: dict[str, Attr] = field(default_factory=dict)
    collapse_unchanged: bool = False  # snapshot sources: a version only when attributes change
    deleted: str = "false"


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("dim_workspace", "access.workspaces_latest", ("workspace_id",),
              "coalesce(_source_commit_timestamp, _ingested_at)",
              {"account_id": "account_id", "workspace_name": "workspace_name", "workspace_url": "workspace_url",
               "create_time": "create_time", "status": "status"}, collapse_unchanged=True),
    Dimension("dim_job", "lakeflow.jobs", ("workspace_id", "job_id"), "change_time",
              {"account_id": "account_id", "name": "name", "description": "description", "creator_id": "creator_id",
               "creator_user_name": "creator_user_name", "run_as": "run_as", "run_as_user_name": "run_as_user_name",
               "tags": _tags("tags"), "trigger_type": "trigger_type",
               "schedule": "trigger.schedule.quartz_cron_expression", "paused": "paused",
               "timeout_seconds": "timeout_seconds",
               "sla_seconds": "filter(health_rules, r -> r.metric = 'RUN_DURATION_SECONDS')[0].value",
               "deployment_kind": "deployment.kind", "create_time": "create_time", "delete_time": "delete_time"},
              deleted="delete_time IS NOT NULL"),
    Dimension("dim_job_task", "lakeflow.job_tasks", ("workspace_id", "job_id", "task_key"), "change_time",
              {"account_id": "account_id", "depends_on_keys": "depends_on_keys", "timeout_seconds": "timeout_seconds",
               "delete_time": "delete_time"}, deleted="delete_time IS NOT NULL"),
    Dimension("dim_pipeline", "lakeflow.pipelines", ("workspace_id", "pipeline_id"), "change_time",
              {"account_id": "account_id", "name": "name", "pipeline_type": "pipeline_type",
               "created_by": "created_by", "run_as": "run_as", "tags": _tags("tags"),
               "photon": "settings.photon", "development": "settings.development",
               "continuous": "settings.continuous", "serverless": "settings.serverless",
               "edition": "settings.edition", "channel": "settings.channel", "create_time": "create_time",
               "delete_time": "delete_time"}, deleted="delete_time IS NOT NULL"),
    Dimension("dim_cluster", "compute.clusters", ("workspace_id", "cluster_id"), "change_time",
              {"account_id": "account_id", "cluster_name": "cluster_name", "owned_by": "owned_by",
               "cluster_source": "cluster_source", "create_time": "create_time", "delete_time": "delete_time",
               "driver_node_type": "driver_node_type", "worker_node_type": "worker_node_type",
               "worker_count": "worker_count", "min_autoscale_workers": "min_autoscale_workers",
               "max_autoscale_workers": "max_autoscale_workers", "auto_termination_minutes": "auto_termination_minutes",
               "tags": _tags("tags"), "dbr_version": "dbr_version", "is_photon": "dbr_version LIKE '%photon%'",
               "data_security_mode": "data_security_mode", "policy_id": "policy_id"},
              deleted="delete_time IS NOT NULL"),
    Dimension("dim_warehouse", "compute.warehouses", ("workspace_id", "warehouse_id"), "change_time",
              {"account_id": "account_id", "warehouse_name": "warehouse_name", "warehouse_type": "warehouse_type",
               "warehouse_channel": "warehouse_channel", "warehouse_size": "warehouse_size",
               "min_clusters": "min_clusters", "max_clusters": "max_clusters", "auto_stop_minutes": "auto_stop_minutes",
               "tags": _tags("tags"), "delete_time": "delete_time"}, deleted="delete_time IS NOT NULL"),
    Dimension("dim_node_type", "compute.node_types", ("account_id", "node_type"),
              "coalesce(_source_commit_timestamp, _ingested_at)",
              {"core_count": "core_count", "memory_mb": "memory_mb", "gpu_count": "gpu_count"},
              collapse_unchanged=True),
)


class DimensionTask(SilverTask):
    def __init__(self, dim: Dimension):
        self.dim = dim
        self.name, self.source, self.target, self.key = f"silver.{dim.target}", dim.source, dim.target, dim.key

    def transform(self, spark: SparkSession, cfg: Settings, changes: DataFrame) -> DataFrame:
        attrs = [(F.expr(expr) if isinstance(expr, str) else expr(cfg)).alias(name)
                 for name, expr in self.dim.attributes.items()]
        versions = changes.select(*self.dim.key, F.expr(self.dim.valid_from).cast("timestamp").alias("valid_from"),
                                  F.lit(FAR_FUTURE).alias("valid_to"), F.lit(True).alias("is_current"),
                                  F.expr(self.dim.deleted).alias("is_deleted"), *attrs)
        hashed = versions.withColumn("attr_hash", attribute_hash(list(self.dim.attributes) + ["is_deleted"]))
        # One row per key and version time within the batch (a snapshot re-read can repeat a version).
        return hashed.dropDuplicates([*self.dim.key, "valid_from", "attr_hash"])

    def write(self, spark: SparkSession, cfg: Settings, target: str, rows: DataFrame) -> None:
        merge_versions(spark, target, rows, list(self.dim.key), self.dim.collapse_unchanged)


def dimension_tasks() -> list[DimensionTask]:
    return [DimensionTask(d) for d in DIMENSIONS]
