"""The inputs of one gold build: each source table pinned at one version, and its change feed up to it.

Every task of a build reads the same versions, so a fact never meets a dimension version newer than its
own rows, and each task's offset (``plt_ops.processing_state``, keyed by task and table) moves to the
pinned version only after the task has written. A task that finds no usable offset (first run, a table
recreated, a change feed vacuumed away) rebuilds everything it owns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakesentinel.lakehouse import Lakehouse, latest_version, merge_into
from lakesentinel.logs import get_logger
from lakesentinel.settings import Settings
from lakesentinel.streams.bronze import bronze_name, bronze_schema
from lakesentinel.streams.offsets import WRITES, Offsets

log = get_logger(__name__)

CHANGE_TYPES = ("insert", "update_preimage", "update_postimage", "delete")


class RebuildAll(Exception):
    """Raised inside a task when its changes cannot be known and it must rebuild everything."""


@dataclass
class Snapshot:
    spark: SparkSession
    cfg: Settings
    versions: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lh = Lakehouse(self.cfg)
        self.offsets = Offsets(self.spark, self.cfg)
        self._offsets: dict[tuple[str, str], int | None] | None = None
        self._lock = threading.RLock()  # the tasks of a phase share the snapshot from their threads

    def offset(self, task: str, name: str) -> int | None:
        """The change-feed version ``task`` has built ``name`` up to (read once per build, for all tasks)."""
        with self._lock:
            if self._offsets is None:
                rows = (self.spark.table(self.offsets.table).where(F.col("task").startswith("gold."))
                        .select("task", "source", "last_cdf_version").collect())
                self._offsets = {(r["task"], r["source"]): r["last_cdf_version"] for r in rows}
            return self._offsets.get((task, name))

    # ---- names ---------------------------------------------------------------------------------
    def silver(self, table: str) -> str:
        return self.lh.name("silver", table)

    def bronze(self, system_table: str) -> str:
        return bronze_name(self.cfg, system_table)

    # ---- pinning -------------------------------------------------------------------------------
    def pin(self, names: list[str]) -> None:
        with self._lock:
            for name in names:
                if name not in self.versions:
                    self.versions[name] = self._latest(name)

    def _latest(self, name: str) -> int | None:
        if not self.lh.exists(self.spark, name):
            return None
        return latest_version(self.spark, name)

    def version(self, name: str) -> int | None:
        self.pin([name])
        return self.versions[name]

    # ---- reading -------------------------------------------------------------------------------
    def read(self, name: str) -> DataFrame:
        """The table at its pinned version; an empty frame of its schema if it does not exist yet."""
        version = self.version(name)
        if version is None:
            return self.spark.createDataFrame([], empty_schema(self.spark, self.cfg, name))
        return self.spark.read.format("delta").option("versionAsOf", version).table(name)

    def changes(self, task: str, name: str) -> DataFrame | None:
        """Rows committed to ``name`` after ``task``'s offset, up to the pinned version, with
        ``_change_type``; None when nothing changed. Raises RebuildAll when the offset cannot be used."""
        end = self.version(name)
        last = self.offset(task, name)
        if last is None:
            raise RebuildAll(f"{task}: no offset for {name}")
        if end is None:
            return None
        if last > end:
            raise RebuildAll(f"{task}: offset {last} of {name} is past its latest version {end} (table recreated?)")
        if last == end:
            return None
        try:
            rows = (self.spark.read.format("delta").option("readChangeFeed", "true")
                    .option("startingVersion", last + 1).option("endingVersion", end).table(name))
            rows.schema  # resolves the versions now, so a vacuumed feed fails here
        except AnalysisException as exc:
            raise RebuildAll(f"{task}: change feed of {name} from version {last + 1} is unavailable: "
                             f"{str(exc).splitlines()[0]}") from None
        return rows.where(F.col("_change_type").isin(*CHANGE_TYPES))

    def commit(self, task: str, names: list[str], rows_written: int = 0) -> None:
        """Move ``task``'s offsets for ``names`` to their pinned versions, in one MERGE."""
        pinned = [(task, n, self.version(n), rows_written) for n in names if self.version(n) is not None]
        if not pinned:
            return
        update = self.spark.createDataFrame(pinned, "task string, source string, last_cdf_version bigint, "
                                                    "rows_written bigint")
        with WRITES:  # one MERGE into processing_state at a time, across tasks and lanes
            merge_into(self.spark, self.offsets.table, update, "t.task = s.task AND t.source = s.source",
                       "WHEN MATCHED THEN UPDATE SET last_cdf_version = s.last_cdf_version, "
                       "updated_at = current_timestamp(), rows_written = s.rows_written "
                       "WHEN NOT MATCHED THEN INSERT (task, source, last_cdf_version, updated_at, rows_read, rows_written) "
                       "VALUES (s.task, s.source, s.last_cdf_version, current_timestamp(), 0, s.rows_written)")
        with self._lock:
            if self._offsets is not None:
                self._offsets.update({(t, n): v for t, n, v, _ in pinned})


def empty_schema(spark: SparkSession, cfg: Settings, name: str) -> T.StructType:
    """The schema a silver or bronze table will have, for builds that run before it has rows."""
    from lakesentinel.silver.plan import silver_tasks
    from lakesentinel.sources.system_tables import SYSTEM_TABLES

    lh = Lakehouse(cfg)
    for system_table in SYSTEM_TABLES:
        if bronze_name(cfg, system_table) == name:
            return bronze_schema(system_table)
    for task in silver_tasks():
        if lh.name("silver", task.target) == name:
            cdf = T.StructType([T.StructField("_change_type", T.StringType()),
                                T.StructField("_commit_version", T.LongType()),
                                T.StructField("_commit_timestamp", T.TimestampType())])
            source = T.StructType(bronze_schema(task.source).fields + cdf.fields)
            return task.transform(spark, cfg, spark.createDataFrame([], source)).schema
    raise ValueError(f"no known schema for {name}")
