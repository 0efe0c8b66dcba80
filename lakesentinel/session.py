"""The session factory: the one place that knows whether Spark is local or Databricks'.

``get_spark()`` returns a SparkSession with Delta Lake; locally it starts Spark tuned for a small
machine (few shuffle partitions, no UI, cached Delta jars, no network), on Databricks it returns the
runtime's session. Nothing else in lakesentinel asks which one it got.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from pyspark.sql import SparkSession

from lakesentinel.errors import SetupError
from lakesentinel.session_kind import is_connect, session_key  # noqa: F401 - re-exported
from lakesentinel.logs import get_logger
from lakesentinel.settings import Settings, settings as current_settings

T = TypeVar("T")
R = TypeVar("R")

log = get_logger(__name__)

_lock = threading.Lock()


# Landing and scoring (the alert hot path) get most of the machine when curation competes for it.
POOLS = {"hot": (6, 1), "scoring": (3, 0), "background": (1, 0)}  # name: (weight, minShare)


def _allocation_file(directory: Path) -> Path:
    pools = "".join(f'<pool name="{name}"><schedulingMode>FIFO</schedulingMode><weight>{w}</weight>'
                    f"<minShare>{m}</minShare></pool>" for name, (w, m) in POOLS.items())
    path = directory / "fairscheduler.xml"
    path.write_text(f'<?xml version="1.0"?><allocations>{pools}</allocations>')
    return path


def _local_session(cfg: Settings) -> SparkSession:
    from lakesentinel.setup_jars import cached_jars

    try:
        jars = cached_jars()
    except FileNotFoundError as exc:
        raise SetupError(str(exc)) from None
    home = Path(cfg.state_root)
    home.mkdir(parents=True, exist_ok=True)
    # Spark's driver picks up the Python that runs it; keep executors on the same interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_DRIVER_PYTHON", "") or _python())
    builder = (
        SparkSession.builder.master(cfg.spark.master or "local[2]")
        .appName("lakesentinel")
        .config("spark.jars", ",".join(str(j) for j in jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.driver.memory", cfg.spark.driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.structuredLogging.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(cfg.spark.shuffle_partitions))
        .config("spark.default.parallelism", str(cfg.spark.shuffle_partitions))
        # Delta rebuilds table state with this many partitions; the default (50) dominates small reads.
        .config("spark.databricks.delta.snapshotPartitions", str(cfg.spark.shuffle_partitions))
        # VACUUM lists files with this many tasks (default 10,000): minutes per table on two local cores.
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(cfg.spark.shuffle_partitions))
        .config("spark.sql.streaming.stateStore.providerClass",
                "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider")
        .config("spark.sql.warehouse.dir", str(home / "spark-warehouse"))
        .config("spark.scheduler.mode", "FAIR")
        .config("spark.scheduler.allocation.file", str(_allocation_file(home)))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        # Columns Databricks adds to system tables flow through MERGEs too (bronze HWM and snapshots).
        .config("spark.databricks.delta.schema.autoMerge.enabled", "true")
    )
    for key, value in cfg.spark.conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _python() -> str:
    import sys

    return sys.executable


def _databricks_session(cfg: Settings) -> SparkSession:
    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


def apply_conf(spark: SparkSession, cfg: Settings) -> None:
    """The configured settings, on a session that already exists (the runtime's). A setting the runtime
    does not let a job change (serverless allows few) is skipped with a warning naming it."""
    wanted = {"spark.databricks.delta.schema.autoMerge.enabled": "true", **cfg.spark.conf}
    for key, value in wanted.items():
        try:
            if spark.conf.get(key, None) != value:
                spark.conf.set(key, value)
        except Exception as exc:  # CANNOT_MODIFY_CONFIG, CONFIG_NOT_AVAILABLE ...: the runtime decides
            log.warning("spark setting not applied", extra={"key": key, "reason": str(exc).splitlines()[0][:200]})


@contextmanager
def scheduler_pool(spark: SparkSession, pool: str):
    """Jobs (and streams started) in this block run in ``pool`` of the FAIR scheduler; on Spark Connect,
    which has no scheduler pools, the block just runs."""
    if is_connect(spark):
        yield
        return
    sc = spark.sparkContext
    previous = sc.getLocalProperty("spark.scheduler.pool")
    sc.setLocalProperty("spark.scheduler.pool", pool)
    try:
        yield
    finally:
        sc.setLocalProperty("spark.scheduler.pool", previous)


def current_pool(spark: SparkSession) -> str | None:
    """This thread's scheduler pool (None on Spark Connect, or when none is set)."""
    return None if is_connect(spark) else spark.sparkContext.getLocalProperty("spark.scheduler.pool")


def run_side_by_side(spark: SparkSession, items: Sequence[T], fn: Callable[[T], R], threads: int,
                     name: str = "side") -> list[R]:
    """``fn`` over ``items`` on up to ``threads`` threads, in the caller's scheduler pool (worker threads
    do not inherit it); results in the order of ``items``."""
    pool = current_pool(spark)

    def run(item: T) -> R:
        with scheduler_pool(spark, pool) if pool else nullcontext():
            return fn(item)

    if threads <= 1 or len(items) < 2:
        return [run(item) for item in items]
    with ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix=name) as executor:
        return list(executor.map(run, items))


def use_pool(spark: SparkSession, pool: str) -> None:
    """Put this thread's later jobs in ``pool`` (a foreachBatch callback's thread does not inherit it)."""
    if not is_connect(spark):
        spark.sparkContext.setLocalProperty("spark.scheduler.pool", pool)


_FACTORIES = {"local": _local_session, "databricks": _databricks_session}


def get_spark(cfg: Settings | None = None) -> SparkSession:
    """Return the SparkSession for the configured runtime, with the lakehouse's tables attached."""
    from lakesentinel.lakehouse import Lakehouse

    cfg = cfg or current_settings()
    with _lock:
        active = SparkSession.getActiveSession()
        if active is None:
            spark = _FACTORIES[cfg.runtime](cfg)
        else:
            spark = active
        apply_conf(spark, cfg)
        Lakehouse(cfg).attach(spark)
    return spark
