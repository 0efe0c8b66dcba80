"""Self-monitoring: every micro-batch and task run becomes a row of ``plt_ops.stream_metrics``.

A ``StreamingQueryListener`` collects progress, idle and termination events of every query; the
supervisor records each batch task run; both are buffered in memory and appended in one commit every
few seconds, so monitoring adds no Delta write to any batch.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQueryListener

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.settings import Settings

log = get_logger(__name__)

SCHEMA = (
    "recorded_at TIMESTAMP, stream STRING, kind STRING, event STRING, query_id STRING, run_id STRING, "
    "batch_id BIGINT, num_input_rows BIGINT, input_rows_per_second DOUBLE, processed_rows_per_second DOUBLE, "
    "duration_ms BIGINT, source_version BIGINT, error STRING, date_key INT"
)
COLUMNS = [c.split()[0] for c in SCHEMA.split(", ")]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def source_version(end_offset: str | None) -> int | None:
    """The Delta source version a batch read up to, from its end offset JSON.

    >>> source_version('{"sourceVersion":1,"reservoirVersion":12,"index":-1,"isStartingVersion":false}')
    12
    """
    if not end_offset:
        return None
    try:
        offset = json.loads(end_offset)
    except ValueError:
        return None
    return offset.get("reservoirVersion") if isinstance(offset, dict) else None


class MetricsRecorder:
    def __init__(self) -> None:
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._last: dict[str, tuple[str, str]] = {}  # stream -> (kind, its latest event) in this process

    def add(self, stream: str, kind: str, event: str, *, query_id=None, run_id=None, batch_id=None,
            num_input_rows=None, input_rps=None, processed_rps=None, duration_ms=None, version=None,
            error=None, at: datetime | None = None) -> None:
        at = at or _now()
        row = (at, stream, kind, event, query_id, run_id, batch_id, num_input_rows, input_rps, processed_rps,
               duration_ms, version, (error or None) and str(error)[:2000], int(at.strftime("%Y%m%d")))
        with self._lock:
            self._rows.append(row)
            if event != "drained":
                self._last[stream] = (kind, event)

    def mark_drained(self) -> int:
        """A scheduled run ended cleanly: each stream and task it ran, whose last event was not a failure,
        gets a ``drained`` event, which health judges by its age rather than as a stopped stream."""
        with self._lock:
            done = [(s, k) for s, (k, e) in self._last.items() if e not in ("failed", "task_failed")]
        for stream, kind in done:
            self.add(stream, kind, "drained")
        return len(done)

    def pending(self) -> int:
        return len(self._rows)

    def flush(self, spark: SparkSession, cfg: Settings) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        lh = Lakehouse(cfg)
        name = lh.create_table(spark, lh.name("ops", "stream_metrics"), SCHEMA, partition_by=None,
                               comment="Micro-batch and task-run metrics of lakesentinel's own streams")
        spark.createDataFrame(rows, ", ".join(c for c in SCHEMA.split(", "))).write.format("delta") \
            .mode("append").saveAsTable(name)
        return len(rows)


class MetricsListener(StreamingQueryListener):
    def __init__(self, recorder: MetricsRecorder):
        self.recorder = recorder
        self._names: dict[str, str] = {}

    def onQueryStarted(self, event) -> None:
        self._names[str(event.id)] = event.name or str(event.id)
        self.recorder.add(self._names[str(event.id)], "stream", "started", query_id=str(event.id),
                          run_id=str(event.runId))

    def onQueryProgress(self, event) -> None:
        p = event.progress
        version = max((v for v in (source_version(s.endOffset) for s in p.sources) if v is not None), default=None)
        self.recorder.add(p.name or str(p.id), "stream", "progress", query_id=str(p.id), run_id=str(p.runId),
                          batch_id=p.batchId, num_input_rows=p.numInputRows, input_rps=p.inputRowsPerSecond,
                          processed_rps=p.processedRowsPerSecond,
                          duration_ms=(p.durationMs or {}).get("triggerExecution"), version=version)

    def onQueryIdle(self, event) -> None:
        name = self._names.get(str(event.id), str(event.id))
        self.recorder.add(name, "stream", "idle", query_id=str(event.id), run_id=str(event.runId))

    def onQueryTerminated(self, event) -> None:
        name = self._names.get(str(event.id), str(event.id))
        self.recorder.add(name, "stream", "failed" if event.exception else "terminated", query_id=str(event.id),
                          run_id=str(event.runId), error=event.exception)
