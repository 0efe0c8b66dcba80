"""Runs a set of streaming queries and periodic batch tasks, and keeps them running.

A query stopped because its source gained columns is restarted (the new columns flow into bronze by
schema evolution); one stopped by a removed or retyped column stays stopped with the error recorded.
Scheduled runs drain stage after stage (bronze, silver, detectors, gold): each stage's tasks run once
and its queries drain with ``availableNow`` over what the stages before it wrote. Continuous runs give each lane of tasks (bronze batches, silver, gold) a thread of its own, so
a slow stage never keeps another waiting for its turn.
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
    lane: str = "tasks"  # tasks of one lane run in turn in one thread; lanes run side by side
    next_at: float = 0.0
    last_ok_started: float | None = None  # wall-clock start of the last run that succeeded
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

    def add_task(self, name: str, step: Callable[[], Any], interval_s: float, lane: str | None = None) -> None:
        self.tasks.append(TaskSpec(name, step, interval_s, lane or name.split(".", 1)[0]))

    def lanes(self) -> dict[str, list[TaskSpec]]:
        out: dict[str, list[TaskSpec]] = {}
        for task in self.tasks:
            out.setdefault(task.lane, []).append(task)
        return out

    # ---- scheduled --------------------------------------------------------------------------------
    def run_once(self, stages: tuple[str, ...] = ("bronze", "silver", "detectors", "gold")) -> dict[str, Any]:
        """Drain stage after stage, each over what the one before has written: a stage's tasks run once,
        then its streams start (they drain with availableNow) and are waited for. Streams and tasks of
        no named stage come last."""
        results: dict[str, Any] = {}
        for stage in (*stages, None):
            def ours(name: str, stage=stage) -> bool:
                first = name.split(".", 1)[0]
                return first == stage if stage is not None else first not in stages

            for task in [t for t in self.tasks if ours(t.lane)]:
                self._step(task)
                results[task.name] = task.last_result
            streams = [s for s in self.streams if ours(s.name)]
            for spec in streams:
                self._start(spec)
            for spec in streams:
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
        lanes = [threading.Thread(target=self._run_lane, args=(tasks, stop, poll_s), name=f"lane-{lane}",
                                  daemon=True) for lane, tasks in self.lanes().items()]
        for lane in lanes:
            lane.start()
        flushed = time.monotonic()
        try:
            while not stop.is_set():
                for spec in self.streams:
                    self._watch(spec)
                if self.flush and time.monotonic() - flushed >= self.flush_every_s:
                    self._flush()
                    flushed = time.monotonic()
                stop.wait(poll_s)
        finally:
            for lane in lanes:
                lane.join()  # a task in flight finishes its step: offsets stay consistent
            self.stop()
            self._flush()

    def _run_lane(self, tasks: list[TaskSpec], stop: threading.Event, poll_s: float) -> None:
        while not stop.is_set():
            for task in tasks:
                if time.monotonic() >= task.next_at and not stop.is_set():
                    self._step(task)
                    task.next_at = time.monotonic() + task.interval_s
            stop.wait(poll_s)

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
        began, started = time.monotonic(), time.time()
        try:
            task.last_result = task.step()
            task.last_ok_started = started
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
