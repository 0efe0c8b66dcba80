"""Health of the running monitor, from its own metrics: is each stream alive, and how far behind?

A stream or task is **stale** when nothing was heard from it for longer than ``max_silence_s``, **failed**
or **stopped** when its last event says so, and **lagging** when the oldest source commit it has not
read yet is older than ``max_lag_s``. One that a scheduled run drained is judged by the age of that run
(``max_drain_age_s``) instead: between scheduled runs it is meant to be idle. A continuous monitor whose
lease expired (it died without releasing it) is **stale** whatever its streams last said. Any of these
makes the monitor unhealthy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.lakehouse import history as delta_history
from lakesentinel.settings import Settings
from lakesentinel.streams.bronze import bronze_name

HEALTHY = ("ok",)


@dataclass
class Health:
    stream: str
    kind: str
    status: str  # ok | stale | failed | stopped | lagging | never
    last_batch_at: datetime | None = None
    last_seen_at: datetime | None = None
    input_rows_1h: int = 0
    failures_1h: int = 0
    lag_versions: int | None = None
    lag_seconds: float | None = None
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.status in HEALTHY

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass
class DataQuality:
    table: str
    status: str
    score: float
    rows_quarantined: int
    run_at: datetime


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _source_of(cfg: Settings, stream: str) -> str | None:
    """The table a stream or task reads, when lag can be measured against it."""
    lh = Lakehouse(cfg)
    if stream.startswith("bronze."):
        table = stream.removeprefix("bronze.")
        return lh.source(table) if table in cfg.sources else None
    if stream.startswith("silver."):
        from lakesentinel.silver.plan import silver_tasks

        task = next((t for t in silver_tasks() if t.name == stream), None)
        return bronze_name(cfg, task.source) if task else None
    return None


def _lag(spark: SparkSession, cfg: Settings, table: str, read_version: int | None, now: datetime):
    """(versions not yet read, age in seconds of the oldest of them)."""
    lh = Lakehouse(cfg)
    if not lh.exists(spark, table):
        return None, None
    history = delta_history(spark, table, 200).select("version", "timestamp").orderBy("version").collect()
    if not history:
        return None, None
    latest = history[-1]["version"]
    if read_version is None:
        return latest + 1, (now - history[0]["timestamp"]).total_seconds()
    unread = [h for h in history if h["version"] > read_version]
    if not unread:
        return 0, 0.0
    return latest - read_version, max(0.0, (now - unread[0]["timestamp"]).total_seconds())


def expected_streams(cfg: Settings) -> list[tuple[str, str]]:
    """(name, kind) of what the monitor runs for this configuration."""
    from lakesentinel.silver.plan import silver_tasks

    out = [(f"bronze.{t}", "stream" if s.mode == "stream" else "task") for t, s in cfg.sources.items()]
    return out + [(t.name, "task") for t in silver_tasks()]


def check(spark: SparkSession, cfg: Settings, *, max_silence_s: float = 120.0, max_lag_s: float = 900.0,
          max_drain_age_s: float = 26 * 3600.0, now: datetime | None = None,
          only: list[str] | None = None) -> tuple[list[Health], list[DataQuality]]:
    """Health of every expected stream and task (or of ``only`` these), and the latest data quality."""
    now = now or _utcnow()
    lh = Lakehouse(cfg)
    metrics_name = lh.name("ops", "stream_metrics")
    expected = dict(expected_streams(cfg))
    # Far enough back to see an overdue scheduled drain as overdue rather than as never run.
    lookback = max(timedelta(days=1), timedelta(seconds=2 * max_drain_age_s))
    rows: dict[str, list] = {}
    if lh.exists(spark, metrics_name):
        recent = spark.table(metrics_name).where(F.col("recorded_at") >= F.lit(now - lookback))
        for r in recent.orderBy("recorded_at").collect():
            rows.setdefault(r["stream"], []).append(r)
            expected.setdefault(r["stream"], r["kind"])
    out = []
    hour_ago = now - timedelta(hours=1)
    for name, kind in sorted(expected.items()):
        if only is not None and name not in only:
            continue
        events = rows.get(name, [])
        if not events:
            out.append(Health(name, kind, "never",
                              detail=f"no metrics recorded in the last {lookback.total_seconds() / 3600:.0f} h"))
            continue
        last = events[-1]
        batches = [e for e in events if e["event"] in ("progress", "task_ok")]
        h = Health(name, kind, "ok", last_batch_at=batches[-1]["recorded_at"] if batches else None,
                   last_seen_at=last["recorded_at"],
                   input_rows_1h=sum(e["num_input_rows"] or 0 for e in batches if e["recorded_at"] >= hour_ago),
                   failures_1h=sum(1 for e in events if e["event"] in ("failed", "task_failed")
                                   and e["recorded_at"] >= hour_ago))
        versions = [e["source_version"] for e in batches if e["source_version"] is not None]
        source = _source_of(cfg, name)
        if source is not None and (versions or kind == "stream"):
            h.lag_versions, h.lag_seconds = _lag(spark, cfg, source, max(versions) if versions else None, now)
        if last["event"] == "drained":
            age = (now - last["recorded_at"]).total_seconds()
            if age > max_drain_age_s:
                h.status, h.detail = "stale", f"last drained by a scheduled run {age / 3600:.1f} h ago"
            else:
                h.lag_versions = h.lag_seconds = None  # the source moves on between scheduled runs
                h.detail = f"drained by a scheduled run {age / 60:.0f} min ago"
        elif last["event"] == "failed" or last["event"] == "task_failed":
            h.status, h.detail = "failed", (last["error"] or "")[:300]
        elif last["event"] == "terminated":
            h.status, h.detail = "stopped", "the query was stopped"
        elif (now - last["recorded_at"]).total_seconds() > max_silence_s:
            h.status = "stale"
            h.detail = f"nothing heard for {(now - last['recorded_at']).total_seconds():.0f}s"
        elif h.lag_seconds is not None and h.lag_seconds > max_lag_s:
            h.status, h.detail = "lagging", f"oldest unread source commit is {h.lag_seconds:.0f}s old"
        out.append(h)
    monitor = _monitor_lease(cfg, now)
    if monitor is not None and only is None:
        out.append(monitor)
    return out, data_quality(spark, cfg)


def _monitor_lease(cfg: Settings, now: datetime) -> Health | None:
    """The continuous monitor holds a lease while it runs and removes it when it stops; one left behind
    and expired means it died, even if a scheduled run drained the streams since."""
    from lakesentinel.streams.lease import lease_path, read_lease

    lease = read_lease(lease_path(cfg))
    if lease is None or lease.mode != "continuous" or lease.live(now.replace(tzinfo=timezone.utc).timestamp()):
        return None
    renewed = datetime.fromtimestamp(lease.renewed_at, timezone.utc).replace(tzinfo=None)
    return Health("monitor", "lease", "stale", last_seen_at=renewed,
                  detail=f"the continuous monitor's lease expired: {lease.describe()}")


def data_quality(spark: SparkSession, cfg: Settings) -> list[DataQuality]:
    lh = Lakehouse(cfg)
    name = lh.name("ops", "dq_results")
    if not lh.exists(spark, name):
        return []
    newest = Window.partitionBy("table_name").orderBy(F.desc("run_at"))
    latest = spark.table(name).withColumn("_r", F.row_number().over(newest)).where("_r = 1").collect()
    return [DataQuality(r["table_name"], r["status"], r["score"], r["rows_quarantined"], r["run_at"]) for r in latest]
