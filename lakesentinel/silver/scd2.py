"""Slowly changing dimensions, type 2: one row per version with ``valid_from``/``valid_to``/``is_current``.

A batch of new versions is merged with the stored versions of the same keys and the intervals are
recomputed, so versions that arrive out of order slot in between without overlaps or gaps. The current
version's ``valid_to`` is 9999-12-31, so point-in-time joins need no NULL handling.
"""

from __future__ import annotations

from datetime import datetime

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

FAR_FUTURE = datetime(9999, 12, 31)


def attribute_hash(columns: list[str]):
    return F.md5(F.to_json(F.struct(*[F.col(f"`{c}`") for c in columns])))


def merge_versions(spark: SparkSession, target: str, versions: DataFrame, key: list[str],
                   collapse_unchanged: bool) -> None:
    """Merge ``versions`` (key, valid_from, attributes, attr_hash) into ``target``.

    ``collapse_unchanged``: for sources without their own version time (snapshots), a new row whose
    attributes equal the previous version's is not a new version.
    """
    columns = [c for c in versions.columns if c not in ("valid_to", "is_current")]
    stored = (spark.table(target).join(versions.select(*key).distinct(), key, "left_semi")
              .select(*columns).withColumn("_new", F.lit(0)))
    incoming = versions.select(*columns).withColumn("_new", F.lit(1))
    by_key = Window.partitionBy(*key).orderBy("valid_from")
    same_time = Window.partitionBy(*key, "valid_from").orderBy(F.desc("_new"))
    merged = (stored.unionByName(incoming)
              .withColumn("_rank", F.row_number().over(same_time)).where("_rank = 1").drop("_rank"))
    if collapse_unchanged:
        merged = (merged.withColumn("_prev", F.lag("attr_hash").over(by_key))
                  .where(~((F.col("_new") == 1) & F.col("_prev").eqNullSafe(F.col("attr_hash")))).drop("_prev"))
    merged = (merged.withColumn("valid_to", F.coalesce(F.lead("valid_from").over(by_key), F.lit(FAR_FUTURE)))
              .withColumn("is_current", F.col("valid_to") == F.lit(FAR_FUTURE)).drop("_new"))
    on = " AND ".join([f"t.`{k}` <=> s.`{k}`" for k in key] + ["t.valid_from = s.valid_from"])
    (DeltaTable.forName(spark, target).alias("t").merge(merged.alias("s"), on)
     .whenMatchedUpdateAll(condition="t.valid_to <> s.valid_to OR t.attr_hash <> s.attr_hash")
     .whenNotMatchedInsertAll().execute())
