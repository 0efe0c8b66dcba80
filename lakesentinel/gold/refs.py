"""The SCD2 dimensions as facts see them: natural key, surrogate key, and where their versions come from."""

from __future__ import annotations

from dataclasses import dataclass

from lakesentinel.gold.keys import DimensionRef


@dataclass(frozen=True)
class DimensionSource:
    """The table a gold dimension's versions come from, and what counts as a changed version."""

    layer: str  # silver, or bronze for list prices
    table: str
    natural: tuple[str, ...]  # natural key columns in that table, in the dimension's order
    version_time: str  # the column there that becomes version_time
    attributes: str  # SQL expression whose change means the version's content changed


# The fact's columns default to the dimension's own natural key names.
WORKSPACE = DimensionRef("dim_workspace", "workspace_key", ("workspace_id",), ("workspace_id",))
JOB = DimensionRef("dim_job", "job_key", ("workspace_id", "job_id"), ("workspace_id", "job_id"))
TASK = DimensionRef("dim_task", "job_task_key", ("workspace_id", "job_id", "task_key"),
                    ("workspace_id", "job_id", "task_key"))
PIPELINE = DimensionRef("dim_pipeline", "pipeline_key", ("workspace_id", "pipeline_id"), ("workspace_id", "pipeline_id"))
CLUSTER = DimensionRef("dim_cluster", "cluster_key", ("workspace_id", "cluster_id"), ("workspace_id", "cluster_id"))
WAREHOUSE = DimensionRef("dim_warehouse", "warehouse_key", ("workspace_id", "warehouse_id"),
                         ("workspace_id", "warehouse_id"))
NODE_TYPE = DimensionRef("dim_node_type", "node_type_key", ("account_id", "node_type"), ("account_id", "node_type"))
SKU = DimensionRef("dim_sku", "sku_key", ("cloud", "sku_name", "usage_unit", "currency_code"),
                   ("cloud", "sku_name", "usage_unit", "currency_code"))

REFS: dict[str, DimensionRef] = {r.dimension: r for r in (WORKSPACE, JOB, TASK, PIPELINE, CLUSTER, WAREHOUSE,
                                                          NODE_TYPE, SKU)}


def _silver(table: str, natural: tuple[str, ...]) -> DimensionSource:
    return DimensionSource("silver", table, natural, "valid_from", "attr_hash")


SOURCES: dict[str, DimensionSource] = {
    "dim_workspace": _silver("dim_workspace", WORKSPACE.natural),
    "dim_job": _silver("dim_job", JOB.natural),
    "dim_task": _silver("dim_job_task", TASK.natural),
    "dim_pipeline": _silver("dim_pipeline", PIPELINE.natural),
    "dim_cluster": _silver("dim_cluster", CLUSTER.natural),
    "dim_warehouse": _silver("dim_warehouse", WAREHOUSE.natural),
    "dim_node_type": _silver("dim_node_type", NODE_TYPE.natural),
    # Silver has no list-price table; the price periods come from bronze, updated in place when a price ends.
    "dim_sku": DimensionSource("bronze", "billing_list_prices", SKU.natural, "price_start_time", "to_json(pricing)"),
}
