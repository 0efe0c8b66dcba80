"""Runs a set of streaming queries and periodic batch tasks, and keeps them running.

A query stopped because its source gained columns is restarted (the new columns flow into bronze by
schema evolution); one stopped by a removed or retyped column stays stopped with the error recorded.
Scheduled runs start every query with ``availableNow``, run each task once, and wait for the queries
to drain.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pyspark.sql.streaming import StreamingQuery

from lakesentinel.errors import LakeSentinelError
from lakesentinel.logs import get_logger

log = get_logger(__name__)


@dataclass
class StreamSpec:
    name: str
    start: Callable[[], StreamingQuery]
    query: StreamingQuery | None = None
    restarts: int = 0
    error: str | None = None


@dataclass
class TaskSpec:
    name: str
    step: Callable[[], Any]
    interval_s: float
    next_at: float = 0.0
    runs: int = 0
    failures: int = 0
    last_result: Any = None
    error: str | None = None


@dataclass
class Supervisor:
    streams: list[StreamSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)
    max_restarts: int = 5
    recorder: Any = None  # a MetricsRecorder: task runs are recorded, and flush() is called periodically
    flush: Callable[[], Any] | None = None
    flush_every_s: float = 5.0

    def add_stream(self, name: str, start: Callable[[], StreamingQuery]) -> None:
        self.streams.append(StreamSpec(name, start))

    def add_task(self, name: str, step: Callable[[], Any], interval_s: float) -> None:
        self.tasks.append(TaskSpec(name, step, interval_s))

    # ---- scheduled --------------------------------------------------------------------------------
    def run_once(self) -> dict[str, Any]:
        """Start every stream (they drain with availableNow), run every task once, wait for the streams."""
        results: dict[str, Any] = {}
        for spec in self.streams:
            self._start(spec)
        for task in self.tasks:
            self._step(task)
            results[task.name] = task.last_result
        for spec in self.streams:
            if spec.query is not None:
                spec.query.awaitTermination()
                if spec.query.exception() is not None:
                    raise LakeSentinelError(f"stream {spec.name} failed: {spec.query.exception()}")
                results[spec.name] = spec.query.lastProgress
        return results

    # ---- continuous -------------------------------------------------------------------------------
    def run(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        for spec in self.streams:
            self._start(spec)
        flushed = time.monotonic()
        try:
            while not stop.is_set():
                for spec in self.streams:
                    self._watch(spec)
                now = time.monotonic()
                for task in self.tasks:
                    if now >= task.next_at and not stop.is_set():
                        self._step(task)
                        task.next_at = time.monotonic() + task.interval_s
                if self.flush and time.monotonic() - flushed >= self.flush_every_s:
                    self._flush()
                    flushed = time.monotonic()
                stop.wait(poll_s)
        finally:
            self.stop()
            self._flush()

    def _flush(self) -> None:
        if self.flush is None:
            return
        try:
            self.flush()
        except Exception as exc:  # monitoring must not take the pipeline down
            log.error("metrics flush failed", extra={"error": str(exc)[:500]})

    def stop(self) -> None:
        for spec in self.streams:
            if spec.query is not None and spec.query.isActive:
                spec.query.stop()

    def _start(self, spec: StreamSpec) -> None:
        try:
            spec.query = spec.start()
            spec.error = None
        except LakeSentinelError as exc:  # e.g. schema drift bronze cannot follow: that stream stays down
            spec.query, spec.error = None, str(exc)
            log.error("stream not started", extra={"stream": spec.name, "error": str(exc)})

    def _watch(self, spec: StreamSpec) -> None:
        query = spec.query
        if query is None or query.isActive:
            return
        error = query.exception()
        if error is None:
            return
        spec.error = str(error)
        if spec.restarts >= self.max_restarts:
            return
        spec.restarts += 1
        log.warning("stream stopped; restarting", extra={"stream": spec.name, "error": str(error)[:500]})
        self._start(spec)  # re-checks drift: additive changes resume, breaking ones stay stopped

    def _step(self, task: TaskSpec) -> None:
        began = time.monotonic()
        try:
            task.last_result = task.step()
            task.runs += 1
            task.error = None
            if self.recorder is not None:
                result = task.last_result
                self.recorder.add(task.name, "task", "task_ok", duration_ms=int((time.monotonic() - began) * 1000),
                                  num_input_rows=getattr(result, "rows_read", None),
                                  version=getattr(result, "end_version", None))
        except Exception as exc:  # one failing task must not stop the others; it is retried next time
            task.failures += 1
            task.error = str(exc)
            log.error("task failed", extra={"task": task.name, "error": str(exc)[:1000]})
            if self.recorder is not None:
                self.recorder.add(task.name, "task", "task_failed", error=str(exc),
                                  duration_ms=int((time.monotonic() - began) * 1000))
