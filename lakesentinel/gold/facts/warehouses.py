"""fact_warehouse_utilization: per warehouse and hour, clusters running, scaling, queueing and cost.

Warehouse events give a step function of running clusters: each event's ``cluster_count`` holds until
the next event (the newest one holds until the newest event time known, since later is not yet known).
A date's first hours depend on the last event before it, so an event also reopens the following date.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakesentinel.gold.refs import WAREHOUSE, WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key

KEY = ["workspace_id", "warehouse_id", "hour_start"]


def _day(date_key) -> F.Column:
    return F.to_date(date_key.cast("string"), "yyyyMMdd")


def _date_key(day) -> F.Column:
    return F.date_format(day, "yyyyMMdd").cast("int")


def event_dates(build: Build, events: DataFrame) -> DataFrame:
    """An event's own date and the next one, which starts in the state it left."""
    day = _day(F.col("date_key"))
    return events.select(F.explode(F.array(_date_key(day), _date_key(F.date_add(day, 1)))).alias("date_key"))


def with_warehouse(build: Build, rows: DataFrame) -> DataFrame:
    return rows.where("warehouse_id IS NOT NULL")


def cluster_hours(build: Build, dates: list[int] | None) -> DataFrame:
    """Running seconds, cluster-seconds and peak clusters per warehouse and hour, from the event steps."""
    events = build.silver("warehouse_event").select("workspace_id", "warehouse_id", "event_time", "cluster_count")
    horizon = events.agg(F.max("event_time").alias("horizon"))
    if dates is not None:
        lo = F.to_timestamp(F.lit(str(min(dates))), "yyyyMMdd")
        hi = F.to_timestamp(F.date_add(_day(F.lit(max(dates))), 1))
        before = (events.where(F.col("event_time") < lo).groupBy("workspace_id", "warehouse_id")
                  .agg(F.max_by(F.struct("event_time", "cluster_count"), "event_time").alias("e"))
                  .select("workspace_id", "warehouse_id", "e.event_time", "e.cluster_count"))
        events = before.unionByName(events.where((F.col("event_time") >= lo) & (F.col("event_time") < hi)))
    by_warehouse = Window.partitionBy("workspace_id", "warehouse_id").orderBy("event_time")
    steps = (events.crossJoin(horizon)
             .withColumn("step_end", F.coalesce(F.lead("event_time").over(by_warehouse), F.col("horizon")))
             .where(F.col("step_end") > F.col("event_time")))
    hours = steps.withColumn("hour_start", F.explode(F.sequence(
        F.date_trunc("hour", "event_time"), F.col("step_end"), F.expr("INTERVAL 1 HOUR"))))
    hour_end = F.col("hour_start") + F.expr("INTERVAL 1 HOUR")
    overlap = (F.unix_micros(F.least("step_end", hour_end)) - F.unix_micros(F.greatest("event_time", "hour_start"))) / 1e6
    hours = hours.withColumn("overlap", overlap).where("overlap > 0")
    return hours.groupBy(*KEY).agg(
        F.sum(F.when(F.col("cluster_count") > 0, F.col("overlap")).otherwise(0.0)).alias("running_seconds"),
        F.sum(F.col("overlap") * F.col("cluster_count")).alias("cluster_seconds"),
        F.max("cluster_count").cast("int").alias("peak_clusters"))


class WarehouseFacts(FactTask):
    name, tables = "gold.fact_warehouse_utilization", ("fact_warehouse_utilization",)
    date_sources = {"warehouse_event": event_dates,
                    "query": lambda b, rows: by_date_key(b, with_warehouse(b, rows)),
                    "usage": lambda b, rows: by_date_key(b, with_warehouse(b, rows))}
    dimensions = (DimensionUse(WAREHOUSE, "warehouse_event", WAREHOUSE.natural, "event_time"),
                  DimensionUse(WAREHOUSE, "query", WAREHOUSE.natural, "start_time"),
                  DimensionUse(WORKSPACE, "warehouse_event", WORKSPACE.natural, "event_time"))

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        def within(rows: DataFrame) -> DataFrame:
            return rows if dates is None else rows.where(F.col("date_key").isin(dates))

        events = within(build.silver("warehouse_event")).withColumn("hour_start", F.date_trunc("hour", "event_time"))
        scaling = events.groupBy(*KEY).agg(*[
            F.sum((F.col("event_type") == kind).cast("bigint")).alias(name)
            for kind, name in (("STARTING", "start_events"), ("STOPPED", "stop_events"),
                               ("SCALED_UP", "scale_up_events"), ("SCALED_DOWN", "scale_down_events"))])
        queries = (with_warehouse(build, within(build.silver("query")))
                   .withColumn("hour_start", F.date_trunc("hour", "start_time")).groupBy(*KEY).agg(
                       F.count("*").alias("query_count"),
                       F.sum((F.col("waiting_at_capacity_duration_ms") > 0).cast("bigint")).alias("queued_query_count"),
                       F.sum("waiting_at_capacity_duration_ms").alias("queue_ms"),
                       F.sum("waiting_for_compute_duration_ms").alias("compute_wait_ms"),
                       F.sum("execution_duration_ms").alias("execution_ms"),
                       F.sum((F.col("execution_status") == "FAILED").cast("bigint")).alias("failed_query_count")))
        cost = (with_warehouse(build, within(build.silver("usage")))
                .withColumn("hour_start", F.date_trunc("hour", "usage_start_time")).groupBy(*KEY).agg(
                    F.sum("usage_quantity").cast("decimal(38,18)").alias("usage_quantity"),
                    F.sum("list_cost").cast("decimal(38,18)").alias("list_cost")))
        rows = (cluster_hours(build, dates).join(scaling, KEY, "full").join(queries, KEY, "full").join(cost, KEY, "full")
                .withColumn("date_key", _date_key(F.col("hour_start"))))
        if dates is not None:
            rows = rows.where(F.col("date_key").isin(dates))
        counts = ["running_seconds", "cluster_seconds", "start_events", "stop_events", "scale_up_events",
                  "scale_down_events", "query_count", "queued_query_count", "queue_ms", "compute_wait_ms",
                  "execution_ms", "failed_query_count"]
        rows = rows.fillna(0, subset=counts).withColumn("avg_clusters", F.col("cluster_seconds") / 3600.0)
        rows = WAREHOUSE.attach(rows, build.gold("dim_warehouse"), "hour_start")
        sizes = build.gold("dim_warehouse").select("warehouse_key", "max_clusters")
        rows = (rows.join(sizes, "warehouse_key", "left")
                .withColumn("peak_clusters", F.coalesce("peak_clusters", F.lit(0)))
                .withColumn("utilization", F.when(F.col("max_clusters") > 0,
                                                  F.col("avg_clusters") / F.col("max_clusters"))))
        return {"fact_warehouse_utilization": WORKSPACE.attach(rows, build.gold("dim_workspace"), "hour_start")}
