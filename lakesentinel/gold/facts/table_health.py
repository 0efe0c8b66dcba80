"""fact_table_health: Unity Catalog tables as the audit log sees them, per day and workspace.

``getTable`` and ``generateTemporaryTableCredential`` name the table; a credential with ``READ_WRITE``
is a write. That gives usage (reads, principals) and freshness (the last write) for every table people
and jobs touch. Size is not in the fourteen system tables lakesentinel reads.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakesentinel.gold.refs import WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key

TABLE_ACTIONS = {"getTable": "full_name_arg", "generateTemporaryTableCredential": "table_full_name"}


def table_accesses(audit: DataFrame) -> DataFrame:
    """Audit events that name a table, with the name and whether the access writes."""
    name = F.lit(None).cast("string")
    for action, param in TABLE_ACTIONS.items():
        name = F.when(F.col("action_name") == action, F.col("request_params")[param]).otherwise(name)
    return (audit.where((F.col("service_name") == "unityCatalog") & F.col("action_name").isin(*TABLE_ACTIONS))
            .withColumn("table_full_name", F.lower(name)).where("table_full_name IS NOT NULL")
            .withColumn("is_write", F.coalesce(F.col("request_params")["operation"] == "READ_WRITE", F.lit(False))))


class TableHealthFacts(FactTask):
    name, tables = "gold.fact_table_health", ("fact_table_health",)
    date_sources = {"audit": by_date_key}
    dimensions = (DimensionUse(WORKSPACE, "audit", WORKSPACE.natural, "event_time"),)

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        audit = build.silver("audit")
        if dates is not None:
            audit = audit.where(F.col("date_key").isin(dates))
        ok = ~F.col("is_failure")
        rows = table_accesses(audit).groupBy("date_key", "workspace_id", "table_full_name").agg(
            F.count("*").alias("access_events"),
            F.sum((ok & ~F.col("is_write")).cast("bigint")).alias("read_events"),
            F.sum((ok & F.col("is_write")).cast("bigint")).alias("write_events"),
            F.sum(F.col("is_failure").cast("bigint")).alias("denied_events"),
            F.countDistinct("user_email").alias("distinct_principals"),
            F.min("event_time").alias("first_access_at"), F.max("event_time").alias("last_access_at"),
            F.max(F.when(ok & F.col("is_write"), F.col("event_time"))).alias("last_write_at"))
        parts = F.split("table_full_name", r"\.")
        rows = rows.select("*", parts[0].alias("catalog_name"), parts[1].alias("schema_name"),
                           parts[2].alias("table_name"))
        # The day's first access stands for the day when choosing the workspace version.
        return {"fact_table_health": WORKSPACE.attach(rows, build.gold("dim_workspace"), "first_access_at")}
