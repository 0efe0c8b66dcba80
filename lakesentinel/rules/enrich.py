"""Columns a rule may read that the source row does not carry, looked up from small reference tables.

- ``billing.usage``: ``list_price`` and ``list_cost``, priced by :mod:`lakesentinel.sources.pricing` (the
  same price and cost as silver and the detectors), so budgets are written in currency;
- ``lakeflow.job_run_timeline``: ``job_name``, ``job_sla_seconds`` (the job's RUN_DURATION_SECONDS
  health rule), ``job_timeout_seconds`` (from the newest ``lakeflow.jobs`` version) and
  ``on_all_purpose_cluster`` (the run used a UI/API cluster from ``compute.clusters``).

Lookups are read from the configured source tables, kept on the driver and refreshed every ten
minutes; only rules that read an enrichment column pay for its join (a broadcast of a few hundred rows).
A batch that already carries the column (rule tests) is left as it is.
"""

from __future__ import annotations

import threading
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.sources import pricing

log = get_logger(__name__)
REFRESH_S = 600


class Enricher:
    def __init__(self, spark: SparkSession, cfg, refresh_s: int = REFRESH_S):
        self.spark, self.cfg, self.refresh_s = spark, cfg, refresh_s
        self._cache: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def apply(self, source: str, df: DataFrame, columns: set[str]) -> DataFrame:
        missing = {c for c in columns if c not in df.columns}
        if not missing:
            return df
        if source == "billing.usage":
            return self._usage(df)
        if source == "lakeflow.job_run_timeline":
            return self._job_runs(df)
        return df

    def _lookup(self, name: str, load):
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and time.monotonic() - cached[0] < self.refresh_s:
                return cached[1]
            try:
                value = load()
            except Exception as exc:  # a missing reference table must not stop the rules
                log.warning("enrichment %s unavailable: %s", name, exc)
                value = None
            self._cache[name] = (time.monotonic(), value)
            return value

    def _table(self, system_table: str) -> DataFrame:
        lh = Lakehouse(self.cfg)
        return lh.read(self.spark, lh.source(system_table))

    def _usage(self, df: DataFrame) -> DataFrame:
        def load():
            table = pricing.price_table(self._table("billing.list_prices"))
            return self.spark.createDataFrame([tuple(r) for r in table.collect()], table.schema).cache()

        prices = self._lookup("list_prices", load)
        if prices is None:
            return df.withColumn("list_price", F.lit(None).cast(pricing.MONEY)) \
                     .withColumn("list_cost", F.lit(None).cast(pricing.MONEY))
        had_currency = "currency_code" in df.columns
        priced = pricing.price_usage(df, prices)
        return priced if had_currency else priced.drop("currency_code")

    def _job_runs(self, df: DataFrame) -> DataFrame:
        def load_jobs():
            from pyspark.sql.window import Window

            latest = Window.partitionBy("workspace_id", "job_id").orderBy(F.col("change_time").desc())
            sla = F.expr("element_at(filter(health_rules, r -> r.metric = 'RUN_DURATION_SECONDS'), 1).value")
            rows = (self._table("lakeflow.jobs").withColumn("_n", F.row_number().over(latest)).where("_n = 1")
                    .select(F.col("workspace_id").alias("j_ws"), F.col("job_id").alias("j_id"),
                            F.col("name").alias("j_name"), sla.cast("bigint").alias("j_sla"),
                            F.col("timeout_seconds").cast("bigint").alias("j_timeout")).collect())
            schema = "j_ws string, j_id string, j_name string, j_sla bigint, j_timeout bigint"
            return self.spark.createDataFrame([tuple(r) for r in rows], schema).cache()

        def load_clusters():
            return sorted({r[0] for r in self._table("compute.clusters")
                           .where(F.col("cluster_source").isin("UI", "API")).select("cluster_id").distinct().collect()})

        jobs = self._lookup("jobs", load_jobs)
        clusters = self._lookup("all_purpose_clusters", load_clusters) or []
        if jobs is None:
            df = df.withColumn("job_name", F.lit(None).cast("string")) \
                   .withColumn("job_sla_seconds", F.lit(None).cast("bigint")) \
                   .withColumn("job_timeout_seconds", F.lit(None).cast("bigint"))
        else:
            cond = (F.col("workspace_id") == F.col("j_ws")) & (F.col("job_id") == F.col("j_id"))
            df = (df.join(F.broadcast(jobs), cond, "left")
                  .withColumn("job_name", F.col("j_name")).withColumn("job_sla_seconds", F.col("j_sla"))
                  .withColumn("job_timeout_seconds", F.col("j_timeout"))
                  .drop("j_ws", "j_id", "j_name", "j_sla", "j_timeout"))
        if clusters:
            ids = F.array(*[F.lit(c) for c in clusters])
            on_ap = F.exists(F.col("compute"), lambda c: F.array_contains(ids, c["cluster_id"]))
            on_ap = F.coalesce(on_ap, F.lit(False))
        else:
            on_ap = F.lit(False)
        return df.withColumn("on_all_purpose_cluster", on_ap)
