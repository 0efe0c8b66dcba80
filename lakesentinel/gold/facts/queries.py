"""fact_query_execution: silver query history with the warehouse or cluster version in force at each start."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakesentinel.gold.keys import user_key
from lakesentinel.gold.refs import CLUSTER, WAREHOUSE, WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key


def query_source_type() -> F.Column:
    """What issued the statement, from the first query_source field that is set."""
    kinds = (("dashboard_id", "dashboard"), ("legacy_dashboard_id", "legacy_dashboard"),
             ("sql_query_id", "sql_editor"), ("alert_id", "alert"), ("notebook_id", "notebook"),
             ("genie_space_id", "genie"), ("source_job_id", "job"), ("source_pipeline_id", "pipeline"))
    expr = F.lit("other")
    for column, kind in reversed(kinds):
        expr = F.when(F.col(column).isNotNull(), kind).otherwise(expr)
    return expr


class QueryFacts(FactTask):
    name, tables = "gold.fact_query_execution", ("fact_query_execution",)
    date_sources = {"query": by_date_key}
    dimensions = tuple(DimensionUse(ref, "query", ref.natural, "start_time") for ref in (WORKSPACE, WAREHOUSE, CLUSTER))

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        rows = build.silver("query")
        if dates is not None:
            rows = rows.where(F.col("date_key").isin(dates))
        rows = rows.select("*", user_key(F.col("executed_by")).alias("user_key"),
                           (F.col("execution_status") == "FAILED").alias("is_failed"),
                           query_source_type().alias("query_source_type"))
        for ref in (WORKSPACE, WAREHOUSE, CLUSTER):
            rows = ref.attach(rows, build.gold(ref.dimension), "start_time")
        return {"fact_query_execution": rows}
