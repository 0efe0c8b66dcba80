"""Surrogate keys and point-in-time joins to SCD2 dimensions.

A version's key is the md5 of its natural key and ``version_time``, so rebuilding a dimension gives
every version the key it had before and facts built earlier still point at the right row. A fact row
takes the key of the version whose ``[valid_from, valid_to)`` holds its event time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def surrogate_key(*columns: str | Column) -> Column:
    """md5 of the columns joined with ``|``, a NULL part counting as empty."""
    parts = []
    for c in columns:
        col = F.col(c) if isinstance(c, str) else c
        parts.append(F.coalesce(col.cast("string"), F.lit("")))
    return F.md5(F.concat_ws("|", *parts))


def version_key(natural: tuple[str, ...], version_time: str = "version_time") -> Column:
    return surrogate_key(*natural, F.date_format(F.col(version_time), "yyyy-MM-dd HH:mm:ss.SSSSSS"))


def user_key(name: Column) -> Column:
    """Key of a principal in dim_user (type 1): md5 of the trimmed, lower-cased name; NULL for no name."""
    normalised = F.lower(F.trim(name))
    return F.when(normalised.isNull() | (normalised == ""), F.lit(None).cast("string")).otherwise(F.md5(normalised))


@dataclass(frozen=True)
class DimensionRef:
    """How a fact finds a dimension: the dimension, its key column, and the fact columns of its natural key."""

    dimension: str  # gold table, e.g. "dim_job"
    key: str  # surrogate key column, e.g. "job_key"
    natural: tuple[str, ...]  # the dimension's natural key columns
    fact_columns: tuple[str, ...]  # the fact's columns holding them, in the same order

    def attach(self, facts: DataFrame, dim: DataFrame, at: str, as_column: str | None = None) -> DataFrame:
        """``facts`` with the key of the version valid at column ``at`` (NULL where none is)."""
        tag = as_column or self.key
        versions = dim.select(*[F.col(n).alias(f"_{tag}_{i}") for i, n in enumerate(self.natural)],
                              F.col("valid_from").alias(f"_{tag}_from"), F.col("valid_to").alias(f"_{tag}_to"),
                              F.col(self.key).alias(tag))
        on = [facts[c] == versions[f"_{tag}_{i}"] for i, c in enumerate(self.fact_columns)]
        on += [facts[at] >= versions[f"_{tag}_from"], facts[at] < versions[f"_{tag}_to"]]
        joined = facts.join(versions, on, "left")
        return joined.drop(*[f"_{tag}_{i}" for i in range(len(self.natural))], f"_{tag}_from", f"_{tag}_to")
