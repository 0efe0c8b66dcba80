"""Gold dimensions: silver's SCD2 versions with surrogate keys, SKUs from list prices, principals, the calendar.

A dimension is small, so a changed one is rewritten whole; its keys are derived from each version's
natural key and time, so a rewrite gives every version the key it had. The oldest version held of each
entity reaches back to 1900-01-01: Databricks purges non-latest versions after 365 days, and the oldest
version known is the best description of the time before it, so no fact is left pointing at nothing.
List prices are the exception: a price has a documented start, and before it there is none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakesentinel.gold import ddl
from lakesentinel.gold.keys import version_key
from lakesentinel.gold.refs import REFS, SOURCES
from lakesentinel.lakehouse import merge_into
from lakesentinel.gold.snapshot import RebuildAll
from lakesentinel.gold.task import Build, GoldTask, TaskResult
from lakesentinel.silver.events import UUID
from lakesentinel.silver.scd2 import FAR_FUTURE

OLDEST = datetime(1900, 1, 1)


def _write_all(build: Build, table: str, rows: DataFrame) -> int:
    rows = rows.persist()
    try:
        n = rows.count()
        name = build.lh.name("gold", table)
        rows.select(*ddl.table_ddl(build.cfg, table).column_names).write.format("delta").mode("overwrite") \
            .saveAsTable(name)
        return n
    finally:
        rows.unpersist()


class DimensionTask(GoldTask):
    """Rewrites one dimension whenever its source changed since the task's offset."""

    def source_table(self, build: Build) -> str:
        raise NotImplementedError

    def sources(self, build: Build) -> list[str]:
        return [self.source_table(build)]

    def rows(self, build: Build) -> DataFrame:
        raise NotImplementedError

    def changed(self, build: Build) -> bool:
        try:
            return any(build.snapshot.changes(self.name, s) is not None for s in self.sources(build))
        except RebuildAll:
            return True

    def run(self, build: Build) -> TaskResult:
        began = time.perf_counter()
        self.ensure_tables(build)
        sources = self.sources(build)
        build.snapshot.pin(sources)
        if not build.full and not self.changed(build):
            return TaskResult(self.name, "unchanged", [], 0, time.perf_counter() - began)
        n = _write_all(build, self.tables[0], self.rows(build))
        build.snapshot.commit(self.name, sources, n)
        return TaskResult(self.name, "full", [], n, time.perf_counter() - began)


@dataclass(frozen=True)
class Scd2Dimension(DimensionTask):
    table: str
    columns: dict[str, str] = field(default_factory=dict)  # gold column -> SQL over the silver row, if renamed

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"gold.{self.table}"

    @property
    def tables(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.table,)

    def source_table(self, build: Build) -> str:
        source = SOURCES[self.table]
        return build.lh.name(source.layer, source.table)

    def rows(self, build: Build) -> DataFrame:
        ref = REFS[self.table]
        silver = build.snapshot.read(self.source_table(build)).withColumn("version_time", F.col("valid_from"))
        by_key = Window.partitionBy(*ref.natural).orderBy("version_time")
        first = F.row_number().over(by_key) == 1
        wanted = ddl.table_ddl(build.cfg, self.table).column_names
        exprs: dict[str, Column] = {c: F.expr(self.columns.get(c, f"`{c}`")) for c in wanted
                                    if c not in (ref.key, "valid_from")}
        return (silver.select(*[e.alias(c) for c, e in exprs.items()],
                              F.when(first, F.lit(OLDEST)).otherwise(F.col("valid_from")).alias("valid_from"))
                .withColumn(ref.key, version_key(ref.natural)))


SCD2_DIMENSIONS: tuple[Scd2Dimension, ...] = (
    Scd2Dimension("dim_workspace"),
    Scd2Dimension("dim_job", {"job_name": "name"}),
    Scd2Dimension("dim_task"),
    Scd2Dimension("dim_pipeline", {"pipeline_name": "name"}),
    Scd2Dimension("dim_cluster"),
    Scd2Dimension("dim_warehouse", {"is_serverless": "warehouse_type = 'SERVERLESS'"}),
    Scd2Dimension("dim_node_type"),
)


class SkuDimension(DimensionTask):
    name, tables = "gold.dim_sku", ("dim_sku",)

    def source_table(self, build: Build) -> str:
        return build.lh.name(SOURCES["dim_sku"].layer, SOURCES["dim_sku"].table)

    def rows(self, build: Build) -> DataFrame:
        ref = REFS["dim_sku"]
        prices = build.snapshot.read(self.source_table(build)).dropDuplicates([*ref.natural, "price_start_time"])
        by_key = Window.partitionBy(*ref.natural).orderBy("price_start_time")
        sku = F.col("sku_name")
        product = (F.when(sku.contains("ALL_PURPOSE"), "ALL_PURPOSE").when(sku.contains("JOBS"), "JOBS")
                   .when(sku.contains("DLT"), "DLT").when(sku.contains("SQL"), "SQL")
                   .when(sku.rlike("MODEL_SERVING|INFERENCE"), "MODEL_SERVING")
                   .when(sku.contains("VECTOR_SEARCH"), "VECTOR_SEARCH").when(sku.contains("STORAGE"), "STORAGE")
                   .when(sku.rlike("NETWORK|CONNECTIVITY|EGRESS"), "NETWORKING").otherwise("OTHER"))
        valid_to = F.coalesce("price_end_time", F.lead("price_start_time").over(by_key), F.lit(FAR_FUTURE))
        return (prices.select(
            *ref.natural,
            F.coalesce("pricing.effective_list.default", "pricing.default").cast("decimal(38,18)").alias("list_price"),
            F.col("pricing.default").cast("decimal(38,18)").alias("default_price"),
            F.col("pricing.promotional.default").cast("decimal(38,18)").alias("promotional_price"),
            product.alias("product"),
            F.nullif(F.regexp_extract(sku, r"^(STANDARD|PREMIUM|ENTERPRISE)_", 1), F.lit("")).alias("tier"),
            sku.contains("SERVERLESS").alias("is_serverless"), sku.contains("(PHOTON)").alias("is_photon"),
            F.col("price_start_time").alias("version_time"), F.col("price_start_time").alias("valid_from"),
            valid_to.alias("valid_to"))
            .withColumn("is_current", F.col("valid_to") == F.lit(FAR_FUTURE))
            .withColumn(ref.key, version_key(ref.natural)))


def principal_type(name: Column) -> Column:
    return (F.when(name == "system-user", "system").when(name.rlike(UUID), "service_principal")
            .when(name.contains("@"), "user").otherwise("unknown"))


def usage_principal() -> Column:
    """Who a usage record is billed to: the identity it ran as, else its owner, creator or runner."""
    return F.coalesce("identity_run_as", "identity_owned_by", "identity_created_by", "identity_run_by")


class UserDimension(GoldTask):
    """Principals from audit, query history and usage; type 1, merged as they appear."""

    name, tables = "gold.dim_user", ("dim_user",)
    inputs = ("audit", "query", "usage")

    def sources(self, build: Build) -> list[str]:
        return [build.snapshot.silver(t) for t in self.inputs]

    @staticmethod
    def _seen(frames: dict[str, DataFrame]) -> DataFrame:
        """One row per principal in ``frames`` (any of audit, query, usage)."""
        none = F.lit(None).cast("string")
        pick = {"audit": lambda f: f.select(F.col("user_email").alias("name"), none.alias("user_id"),
                                            F.col("event_time").alias("at")),
                "query": lambda f: f.select(F.col("executed_by").alias("name"),
                                            F.col("executed_by_user_id").alias("user_id"), F.col("start_time").alias("at")),
                "usage": lambda f: f.select(usage_principal().alias("name"), none.alias("user_id"),
                                            F.col("usage_start_time").alias("at"))}
        parts = [pick[t](f) for t, f in frames.items()]
        seen = parts[0]
        for more in parts[1:]:
            seen = seen.unionByName(more)
        name = F.lower(F.trim("name"))
        seen = seen.where(name.isNotNull() & (name != "")).withColumn("user_name", name)
        return (seen.groupBy("user_name").agg(F.first("user_id", ignorenulls=True).alias("user_id"),
                                              F.min("at").alias("first_seen"), F.max("at").alias("last_seen"))
                .withColumn("user_key", F.md5("user_name"))
                .withColumn("principal_type", principal_type(F.col("user_name"))))

    def run(self, build: Build) -> TaskResult:
        began = time.perf_counter()
        (target,) = self.ensure_tables(build)
        sources = self.sources(build)
        build.snapshot.pin(sources)
        changes: dict[str, DataFrame] | None = None
        if not build.full:
            try:
                found = {t: build.snapshot.changes(self.name, build.snapshot.silver(t)) for t in self.inputs}
                changes = {t: rows.where("_change_type IN ('insert', 'update_postimage')")
                           for t, rows in found.items() if rows is not None}
                if not changes:
                    return TaskResult(self.name, "unchanged", [], 0, time.perf_counter() - began)
            except RebuildAll:
                changes = None
        if changes is None:
            n = _write_all(build, "dim_user", self._seen({t: build.silver(t) for t in self.inputs}))
            mode = "full"
        else:
            seen = self._seen(changes).persist()
            n = seen.count()
            merge_into(build.spark, target, seen, "t.user_name = s.user_name",
                       "WHEN MATCHED THEN UPDATE SET user_id = coalesce(t.user_id, s.user_id), "
                       "first_seen = least(t.first_seen, s.first_seen), last_seen = greatest(t.last_seen, s.last_seen) "
                       "WHEN NOT MATCHED THEN INSERT *")
            seen.unpersist()
            mode = "incremental"
        build.snapshot.commit(self.name, sources, n)
        return TaskResult(self.name, mode, [], n, time.perf_counter() - began)


def calendar(build: Build, first: int, last: int) -> DataFrame:
    """One row per day from date_key ``first`` to ``last``."""
    days = build.spark.sql(
        f"SELECT explode(sequence(to_date('{first}', 'yyyyMMdd'), to_date('{last}', 'yyyyMMdd'), interval 1 day)) AS date")
    d = F.col("date")
    return days.select(
        F.date_format(d, "yyyyMMdd").cast("int").alias("date_key"), d, F.year(d).alias("year"),
        F.quarter(d).alias("quarter"), F.month(d).alias("month"), F.date_format(d, "MMMM").alias("month_name"),
        F.dayofmonth(d).alias("day_of_month"), ((F.dayofweek(d) + 5) % 7 + 1).alias("day_of_week"),
        F.date_format(d, "EEEE").alias("day_name"), F.weekofyear(d).alias("week_of_year"),
        F.dayofweek(d).isin(1, 7).alias("is_weekend"), F.trunc(d, "month").alias("month_start"))


def extend_calendar(build: Build, dates: list[int]) -> TaskResult:
    """Add to dim_date every day between the earliest and latest of ``dates`` that it lacks."""
    began = time.perf_counter()
    task = "gold.dim_date"
    (target,) = [ddl.apply_table(build.spark, build.cfg, build.settings, ddl.table_ddl(build.cfg, "dim_date"))]
    if not dates:
        return TaskResult(task, "unchanged", [], 0, time.perf_counter() - began)
    days = calendar(build, min(dates), max(dates))
    merge_into(build.spark, target, days, "t.date_key = s.date_key", "WHEN NOT MATCHED THEN INSERT *")
    return TaskResult(task, "incremental", [], len(dates), time.perf_counter() - began)


def dimension_tasks() -> list[GoldTask]:
    return [*SCD2_DIMENSIONS, SkuDimension(), UserDimension()]

