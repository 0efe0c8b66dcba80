"""Bronze: exact copies of the source system tables with ingest metadata and Change Data Feed on.

Streamable sources get one Structured Streaming query each, read through the source's change feed
(so every row carries its source commit version and time) and written by ``foreachBatch`` with Delta's
idempotent-write options: a batch replayed after a crash is skipped by Delta, so nothing is doubled, and
the checkpoint guarantees nothing is lost. Hooks run on the same micro-batch before it is written
(the rules engine scores there: the hot path adds no Delta hop before an alert).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.session import scheduler_pool, use_pool
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SYSTEM_TABLES
from lakesentinel.sources.types import parse_columns
from lakesentinel.streams.drift import SchemaDriftError, compare
from lakesentinel.streams.triggers import trigger

log = get_logger(__name__)

METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_ingested_at", "timestamp"),
    ("_source_table", "string"),
    ("_source_commit_version", "bigint"),
    ("_source_commit_timestamp", "timestamp"),
)
METADATA = {name for name, _ in METADATA_COLUMNS}
CHANGE_FEED_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")
HOT_POOL = "hot"  # the scheduler pool of landing and scoring (see session.py)

@dataclass(frozen=True)
class BatchContext:
    """What a hook knows about the batch it sees.

    ``app_id`` is stable across restarts from the same checkpoint and new for a new one; with
    ``batch_id`` (increasing, and the same again when a batch is re-run after a crash) it makes a
    hook's own Delta writes idempotent (``txnAppId``/``txnVersion``).
    """

    system_table: str
    batch_id: int | None
    app_id: str | None


# A hook sees each landed micro-batch (rows with bronze columns) before it is written to bronze.
Hook = Callable[[DataFrame, BatchContext], None]


def bronze_name(cfg: Settings, system_table: str) -> str:
    return Lakehouse(cfg).name("bronze", system_table.replace(".", "_"))


def bronze_schema(system_table: str) -> T.StructType:
    schema = SYSTEM_TABLES[system_table].schema
    return T.StructType(list(schema.fields) + list(parse_columns(list(METADATA_COLUMNS)).fields))


def ensure_bronze(spark: SparkSession, cfg: Settings, system_table: str) -> str:
    lh = Lakehouse(cfg)
    return lh.create_table(spark, bronze_name(cfg, system_table), bronze_schema(system_table),
                           properties={"delta.enableChangeDataFeed": "true"},
                           comment=f"Bronze copy of system.{system_table} with ingest metadata")


def check_drift(spark: SparkSession, cfg: Settings, system_table: str) -> list[str]:
    """Raise SchemaDriftError on removed or retyped columns; return the columns the source added."""
    lh = Lakehouse(cfg)
    source = lh.read(spark, lh.source(system_table)).schema
    target = lh.read(spark, ensure_bronze(spark, cfg, system_table)).schema
    drift = compare(source, target, METADATA)
    if drift.problems:
        raise SchemaDriftError(lh.source(system_table), drift.problems)
    return drift.added


def with_ingest_metadata(df: DataFrame, source_name: str, change_feed: bool) -> DataFrame:
    """Source columns plus ingest metadata; change-feed columns become the source commit version/time."""
    if change_feed:
        # Retention purges and corrections commit deletes; bronze keeps what was inserted or updated.
        df = df.where(F.col("_change_type").isin("insert", "update_postimage"))
        version, committed = F.col("_commit_version"), F.col("_commit_timestamp")
    else:
        version, committed = F.lit(None).cast("bigint"), F.lit(None).cast("timestamp")
    return (df.withColumn("_ingested_at", F.current_timestamp())
              .withColumn("_source_table", F.lit(source_name))
              .withColumn("_source_commit_version", version)
              .withColumn("_source_commit_timestamp", committed)
              .drop(*CHANGE_FEED_COLUMNS))


def source_stream(spark: SparkSession, cfg: Settings, system_table: str,
                  options: dict[str, str] | None = None) -> DataFrame:
    """The source as a stream of rows in bronze's shape (``options`` go to the Delta reader)."""
    lh = Lakehouse(cfg)
    src = cfg.source(system_table)
    reader = spark.readStream.format("delta").options(**(options or {}))
    if src.read_change_feed:
        reader = reader.option("readChangeFeed", "true")
    if src.skip_change_commits:
        reader = reader.option("skipChangeCommits", "true")
    return with_ingest_metadata(reader.table(lh.ensure(spark, src.table)), src.table, src.read_change_feed)


class BronzeSink:
    """``foreachBatch`` function: hooks first (the hot path), then one idempotent append."""

    def __init__(self, cfg: Settings, system_table: str, target: str, hooks: Iterable[Hook] = ()):
        self.cfg, self.system_table, self.target = cfg, system_table, target
        self.hooks = list(hooks)
        self.app_id: str | None = None
        self._ready = threading.Event()

    def bind(self, query: StreamingQuery) -> None:
        # The query id lives in the checkpoint: stable across restarts, new for a new checkpoint, so a
        # fresh checkpoint never has its batches skipped as "already written".
        self.app_id = f"lakesentinel.bronze.{self.system_table}.{query.id}"
        self._ready.set()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        self._ready.wait()
        # Jobs started from this callback thread would not inherit the query's pool otherwise.
        use_pool(batch.sparkSession, HOT_POOL)
        if self.hooks:
            batch = batch.persist()
        try:
            context = BatchContext(self.system_table, batch_id, self.app_id)
            for hook in self.hooks:
                hook(batch, context)
            (batch.write.format("delta").mode("append")
             .option("txnAppId", self.app_id).option("txnVersion", batch_id)
             .option("mergeSchema", "true").saveAsTable(self.target))
        finally:
            if self.hooks:
                batch.unpersist()


def start_bronze_stream(spark: SparkSession, cfg: Settings, system_table: str, *, scheduled: bool = False,
                        hooks: Iterable[Hook] = (), source_options: dict[str, str] | None = None) -> StreamingQuery:
    """Start the streaming copy of one source into ``plt_bronze.<schema>_<table>``."""
    target = ensure_bronze(spark, cfg, system_table)
    added = check_drift(spark, cfg, system_table)
    if added:
        log.info("source added columns; bronze takes them by schema evolution",
                 extra={"table": system_table, "columns": added})
    lh = Lakehouse(cfg)
    stream = source_stream(spark, cfg, system_table, source_options)
    name = f"bronze.{system_table}"
    sink = BronzeSink(cfg, system_table, target, hooks)
    with scheduler_pool(spark, HOT_POOL):
        query = (stream.writeStream.foreachBatch(sink).queryName(name)
                 .option("checkpointLocation", lh.checkpoint(name)).trigger(**trigger(cfg, name, scheduled)).start())
    sink.bind(query)
    return query


def bronze_changes(spark: SparkSession, cfg: Settings, system_table: str,
                   options: dict[str, str] | None = None) -> DataFrame:
    """Bronze as a stream of inserted and updated rows (for consumers downstream of bronze)."""
    name = Lakehouse(cfg).ensure(spark, ensure_bronze(spark, cfg, system_table))
    return (spark.readStream.format("delta").option("readChangeFeed", "true").options(**(options or {}))
            .table(name).where(F.col("_change_type").isin("insert", "update_postimage"))
            .drop(*CHANGE_FEED_COLUMNS))
