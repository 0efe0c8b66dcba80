"""The bronze layer as a whole: one stream or batch task per configured source."""

from __future__ import annotations

from typing import Callable, Iterable

from pyspark.sql import SparkSession

from lakesentinel.settings import Settings
from lakesentinel.streams.batch_ingest import BATCH_INGEST
from lakesentinel.session import scheduler_pool
from lakesentinel.streams.bronze import HOT_POOL, Hook, start_bronze_stream
from lakesentinel.streams.supervisor import Supervisor
from lakesentinel.streams.triggers import interval_seconds

# Batch sources are polled less often than the continuous trigger unless configured per stream.
DEFAULT_INTERVAL_S = {"hwm": 5.0, "snapshot": 60.0}


def _batch(spark: SparkSession, cfg: Settings, table: str, mode: str, hooks: list[Hook]):
    with scheduler_pool(spark, HOT_POOL if hooks else "background"):
        return BATCH_INGEST[mode](spark, cfg, table, hooks=hooks)


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
            supervisor.add_task(name, lambda t=table, m=mode: _batch(spark, cfg, t, m, hooks(t)), interval)
    return supervisor
