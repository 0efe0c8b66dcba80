"""Right-sizing of SQL warehouses from their hourly utilisation in gold, with the evidence and the saving.

- **Idle running hours**: hours a warehouse was running and billed with no query started. Their cost,
  scaled to 30 days, is the monthly saving of a shorter auto-stop.
- **Headroom never used**: a warehouse whose peak clusters stayed below its maximum in every hour;
  lowering ``max_clusters`` to the peak costs nothing it used and caps a runaway (no saving claimed).

Clusters are not covered: their right-sizing needs per-node CPU and memory
(``system.compute.node_timeline``), which the simulator and pipeline do not carry yet.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings


def warehouse_recommendations(spark: SparkSession, cfg: Settings, min_saving: float = 0.0) -> pd.DataFrame:
    """One row per recommendation: warehouse, kind, the change, monthly saving and the evidence."""
    lh = Lakehouse(cfg)
    util = lh.read(spark, lh.name("gold", "fact_warehouse_utilization"))
    per = util.groupBy("workspace_id", "warehouse_id").agg(
        F.countDistinct("date_key").alias("days"),
        F.sum(F.when(F.col("running_seconds") > 0, 1).otherwise(0)).alias("running_hours"),
        F.sum(F.when((F.col("running_seconds") > 0) & (F.col("query_count") == 0), 1).otherwise(0)).alias("idle_hours"),
        F.sum(F.when((F.col("running_seconds") > 0) & (F.col("query_count") == 0), F.col("list_cost")).otherwise(0))
         .cast("double").alias("idle_cost"),
        F.sum("list_cost").cast("double").alias("cost"),
        F.max("peak_clusters").alias("peak_clusters"), F.max("max_clusters").alias("max_clusters"),
    ).toPandas()
    rows = []
    for r in per.itertuples():
        monthly = r.idle_cost / r.days * 30 if r.days else 0.0
        if r.idle_hours and monthly > min_saving:
            rows.append({"workspace_id": r.workspace_id, "warehouse_id": r.warehouse_id, "kind": "auto_stop",
                         "change": "shorten auto-stop (idle running hours)", "monthly_saving": round(monthly, 2),
                         "evidence": f"{r.idle_hours} of {r.running_hours} running hours over {r.days} days had no "
                                     f"query; they cost {r.idle_cost:,.2f} of {r.cost:,.2f}"})
        if r.max_clusters and r.peak_clusters is not None and r.peak_clusters < r.max_clusters:
            rows.append({"workspace_id": r.workspace_id, "warehouse_id": r.warehouse_id, "kind": "max_clusters",
                         "change": f"max_clusters {r.max_clusters} -> {max(int(r.peak_clusters), 1)}",
                         "monthly_saving": 0.0,
                         "evidence": f"peak {r.peak_clusters} cluster(s) in every hour over {r.days} days"})
    return pd.DataFrame(rows, columns=["workspace_id", "warehouse_id", "kind", "change", "monthly_saving", "evidence"])
