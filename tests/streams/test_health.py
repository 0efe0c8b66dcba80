"""Self-monitoring: metrics rows for every batch, and health that follows the streams."""

import threading
import time
from datetime import datetime, timedelta, timezone

import pyarrow as pa

from lakesentinel.deltars import read_arrow
from lakesentinel.health import check
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.sources.writer import SourceWriter
from lakesentinel.streams.ingest import add_bronze
from lakesentinel.streams.metrics import MetricsListener, MetricsRecorder
from lakesentinel.streams.supervisor import Supervisor

STREAM = "bronze.access.audit"


def _wait(predicate, timeout=180.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _status(spark, cfg, **kw):
    results, _ = check(spark, cfg, only=[STREAM], **kw)
    return results[0]


def _append(cfg, n, prefix):
    path = SourceWriter(cfg).path("access.audit")
    rows = read_arrow(path).slice(0, n)
    rows = rows.set_column(rows.schema.get_field_index("event_id"), "event_id",
                           pa.array([f"{prefix}-{i}" for i in range(n)]))
    SourceWriter(cfg).append("access.audit", rows)


def test_health_goes_red_when_a_stream_stops_and_green_when_it_is_back(spark, lakehouse):
    cfg = lakehouse
    recorder = MetricsRecorder()
    listener = MetricsListener(recorder)
    spark.streams.addListener(listener)
    supervisor = add_bronze(Supervisor(recorder=recorder, flush=lambda: recorder.flush(spark, cfg), flush_every_s=1.0),
                            spark, cfg, scheduled=False, tables=["access.audit"])
    stop = threading.Event()
    runner = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    runner.start()
    try:
        _wait(lambda: _status(spark, cfg).status == "ok" and _status(spark, cfg).last_batch_at is not None,
              what="the first batch to be recorded")
        healthy = _status(spark, cfg)
        assert healthy.input_rows_1h > 0 and healthy.lag_versions == 0
        supervisor.streams[0].query.stop()
        _wait(lambda: _status(spark, cfg).status == "stopped", what="health to see the stop")
        _append(cfg, 10, "while-down")
        assert not _status(spark, cfg).healthy
        supervisor.streams[0].query = supervisor.streams[0].start()  # recovery: the stream is started again
        _wait(lambda: _status(spark, cfg).status == "ok", what="health to recover")
        assert _status(spark, cfg).lag_versions == 0
    finally:
        stop.set()
        runner.join(60)
        spark.streams.removeListener(listener)
    metrics = Lakehouse(cfg).read(spark, Lakehouse(cfg).name("ops", "stream_metrics"))
    assert metrics.where(f"stream = '{STREAM}' AND event = 'progress' AND num_input_rows > 0").count() >= 2


def test_a_stream_that_falls_behind_is_lagging_until_it_catches_up(spark, lakehouse):
    cfg = lakehouse
    from delta.tables import DeltaTable

    lh = Lakehouse(cfg)
    source = lh.ensure(spark, lh.source("access.audit"))
    read_up_to = DeltaTable.forName(spark, source).history(1).first()["version"]
    recorder = MetricsRecorder()
    recorder.add(STREAM, "stream", "progress", batch_id=1, num_input_rows=5, version=read_up_to)
    recorder.flush(spark, cfg)
    _append(cfg, 5, "unread")
    later = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=30)
    lagging = _status(spark, cfg, now=later, max_lag_s=10, max_silence_s=3600)
    assert lagging.status == "lagging" and lagging.lag_versions == 1 and lagging.lag_seconds >= 10
    recorder.add(STREAM, "stream", "progress", batch_id=2, num_input_rows=5, version=read_up_to + 1)
    recorder.flush(spark, cfg)
    caught_up = _status(spark, cfg, now=later, max_lag_s=10, max_silence_s=3600)
    assert caught_up.status == "ok" and caught_up.lag_versions == 0
    silent = _status(spark, cfg, now=later + timedelta(hours=2), max_lag_s=10, max_silence_s=60)
    assert silent.status == "stale"


def test_a_scheduled_drain_is_healthy_until_the_next_one_is_overdue(spark, lakehouse):
    cfg = lakehouse
    other = "silver.dim_probe"
    recorder = MetricsRecorder()
    recorder.add(STREAM, "stream", "progress", batch_id=1, num_input_rows=5)
    recorder.add(STREAM, "stream", "terminated")  # availableNow ends its query
    recorder.add(other, "task", "task_failed", error="boom")
    assert recorder.mark_drained() == 1  # a failure is never covered up by the drain
    recorder.flush(spark, cfg)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    drained = _status(spark, cfg, now=now + timedelta(hours=3), max_silence_s=60, max_lag_s=10)
    assert drained.status == "ok" and "drained by a scheduled run" in drained.detail
    assert drained.lag_seconds is None  # the source moving on between runs is not lag
    overdue = _status(spark, cfg, now=now + timedelta(hours=27), max_silence_s=60)
    assert overdue.status == "stale" and "27" in overdue.detail
    failed, _ = check(spark, cfg, only=[other], now=now)
    assert failed[0].status == "failed"


def test_a_dead_continuous_monitor_is_stale_even_after_a_drain(spark, lakehouse):
    from lakesentinel.streams.lease import StreamsLease, lease_path

    cfg = lakehouse
    lease = StreamsLease(cfg, "continuous", ttl_s=60)
    assert lease.try_acquire() is None  # acquired: nobody else holds it
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        alive, _ = check(spark, cfg, now=now, max_silence_s=3600)
        assert "monitor" not in [h.stream for h in alive]
        dead, _ = check(spark, cfg, now=now + timedelta(minutes=5), max_silence_s=3600)
        [monitor] = [h for h in dead if h.stream == "monitor"]
        assert monitor.status == "stale" and "lease expired" in monitor.detail
    finally:
        lease.release()
    assert not lease_path(cfg).exists()
    released, _ = check(spark, cfg, now=now + timedelta(minutes=5), max_silence_s=3600)
    assert "monitor" not in [h.stream for h in released]  # stopped on purpose: its lease went with it
