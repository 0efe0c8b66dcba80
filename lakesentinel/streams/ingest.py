"""The bronze layer as a whole: one stream or batch task per configured source."""

from __future__ import annotations

from typing import Callable, Iterable

from pyspark.sql import SparkSession

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.streams.batch_ingest import BATCH_INGEST, IngestResult
from lakesentinel.session import scheduler_pool
from lakesentinel.streams.bronze import HOT_POOL, Hook, start_bronze_stream
from lakesentinel.streams.supervisor import Supervisor
from lakesentinel.streams.triggers import interval_seconds

# Batch sources are polled less often than the continuous trigger unless configured per stream.
DEFAULT_INTERVAL_S = {"hwm": 5.0, "snapshot": 60.0}


class BatchSource:
    """One high-water-mark or snapshot source as a supervisor task.

    A run finds nothing new unless the source has committed since the last run read it, so such a run
    reads nothing: no re-read of the whole snapshot or of the HWM overlap, no offset commit, every few
    seconds for each source (what kept the machine busy while a long history was being landed).
    """

    def __init__(self, spark: SparkSession, cfg: Settings, table: str, mode: str, hooks: list[Hook]):
        self.spark, self.cfg, self.table, self.mode, self.hooks = spark, cfg, table, mode, hooks
        self.read_version: int | None = None  # the source's version the last successful run read
        self.versioned = True  # False once the source turned out to keep no readable history

    def source_version(self) -> int | None:
        if not self.versioned:
            return None
        from delta.tables import DeltaTable

        try:
            name = Lakehouse(self.cfg).source(self.table)
            return int(DeltaTable.forName(self.spark, name).history(1).select("version").first()[0])
        except Exception:  # a source without Delta history (a view, a share): every run reads it
            self.versioned = False
            return None

    def __call__(self) -> IngestResult:
        with scheduler_pool(self.spark, HOT_POOL if self.hooks else "background"):
            version = self.source_version()
            if version is not None and version == self.read_version:
                return IngestResult(self.table, 0, 0)
            result = BATCH_INGEST[self.mode](self.spark, self.cfg, self.table, hooks=self.hooks)
            self.read_version = version
            return result


def add_bronze(supervisor: Supervisor, spark: SparkSession, cfg: Settings, *, scheduled: bool,
               tables: Iterable[str] | None = None, hooks: Callable[[str], list[Hook]] = lambda t: [],
               source_options: dict[str, str] | None = None) -> Supervisor:
    for table in tables or cfg.sources:
        mode = cfg.sources[table].mode
        name = f"bronze.{table}"
        if mode == "stream":
            supervisor.add_stream(name, lambda t=table: start_bronze_stream(
                spark, cfg, t, scheduled=scheduled, hooks=hooks(t), source_options=source_options))
        else:
            interval = (interval_seconds(cfg, name) if name in cfg.triggers.per_stream
                        else DEFAULT_INTERVAL_S[mode])
            supervisor.add_task(name, BatchSource(spark, cfg, table, mode, hooks(table)), interval)
    return supervisor
