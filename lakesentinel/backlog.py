"""How far behind each stage of the running monitor is: what it has not covered yet of what it reads.

A stage is covered when it has handled its input's latest commit:

- a stream (bronze, detectors) has read its table's latest version, and its last trigger found nothing
  new (so a batch that only moves the watermark, closing the last windows, has run too);
- a silver task's offset has reached its bronze table's latest version;
- a batch task (bronze by high-water mark or snapshot, gold) has finished a run that started after its
  inputs' latest commit;
- the lifecycle has read every commit to ``plt_ops.alerts`` and no incident waits for its first
  notification or for the fact table; the worker has taken every outbox row and has nothing in flight.

Stages are listed from the sources down, so a pass that finds every one covered saw each after the
stages feeding it had finished: nothing can still be on its way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.streams.bronze import bronze_name
from lakesentinel.streams.metrics import source_version

if TYPE_CHECKING:
    from lakesentinel.monitor import Monitor


@dataclass(frozen=True)
class StageBacklog:
    stage: str  # e.g. bronze.billing.usage, silver.usage, detectors.cost.sku_hourly_cost, lifecycle
    reads: str  # the table (or queue) it is measured against
    behind: int  # versions (commits) of ``reads`` not covered yet; notifications for the worker
    detail: str = ""

    @property
    def caught_up(self) -> bool:
        return self.behind == 0

    def describe(self) -> str:
        unit = "notification(s)" if self.stage == "worker" else "commit(s)"
        text = f"{self.stage}: {self.behind} {unit} of {self.reads} behind"
        return f"{text} ({self.detail})" if self.detail else text


class TableProbe:
    """Latest version, commit time and rows of tables, through the context's table backend (delta-rs on
    a local lakehouse, Spark by name elsewhere), and where a stream's checkpoint is when it is local."""

    def __init__(self, monitor: Monitor):
        self.tables = monitor.ctx.ops_tables
        self.local = monitor.ctx.local
        self.lh = monitor.ctx.lakehouse

    def version(self, name: str) -> int | None:
        return self.tables.version(name)

    def rows(self, name: str) -> list[dict]:
        return self.tables.read(name)

    def committed_at(self, name: str) -> float | None:
        """Wall-clock seconds of the table's latest commit."""
        return self.tables.committed_at(name)

    def checkpoint(self, stream: str) -> str | None:
        """A stream's checkpoint folder when it is on the local file system."""
        path = self.lh.checkpoint(stream)
        return path if self.local and "://" not in path else None


def checkpointed_version(checkpoint: str) -> int | None:
    """The source offset (Delta version to read next) of a local checkpoint's last committed batch."""
    root = Path(checkpoint)
    if not (root / "commits").is_dir():
        return None
    committed = [int(p.name) for p in (root / "commits").iterdir() if p.name.isdigit()]
    if not committed:
        return None
    lines = (root / "offsets" / str(max(committed))).read_text().splitlines()
    return source_version(lines[-1]) if len(lines) > 2 else None


def _stream(name: str, query, table: str, latest: int | None, checkpoint: str | None) -> StageBacklog:
    if latest is None:
        return StageBacklog(name, table, 0, "no table yet")
    if query is None:
        return StageBacklog(name, table, latest + 1, "not running")
    progress = query.lastProgress
    read = source_version(progress["sources"][0]["endOffset"]) if progress and progress["sources"] else None
    if read is None and checkpoint:  # no batch since it started: where its checkpoint left off
        read = checkpointed_version(checkpoint)
    behind = latest + 1 if read is None else max(0, latest - (read - 1))  # the offset names the next version
    status = query.status
    # Spark reports no progress while a query idles: its status says whether its last trigger found
    # anything new. A trigger that found nothing ran the batch that only moves the watermark too,
    # when one was due, so every window that can close has been scored.
    idle = (not status["isDataAvailable"] and not status["isTriggerActive"]
            and status["message"] != "Initializing sources")
    if behind and (read is not None or not idle):
        return StageBacklog(name, table, behind)
    if not idle:
        return StageBacklog(name, table, 1, "a micro-batch is running or due")
    return StageBacklog(name, table, 0)


def _task(name: str, task, table: str, committed: float | None) -> StageBacklog:
    if committed is None:
        return StageBacklog(name, table, 0, "no table yet")
    started = task.last_ok_started
    if started is None:
        return StageBacklog(name, table, 1, "no run has finished yet")
    if started < committed:
        return StageBacklog(name, table, 1, f"last run started {committed - started:.0f}s before its latest commit")
    return StageBacklog(name, table, 0)


def stage_backlog(monitor: Monitor, probe: TableProbe) -> list[StageBacklog]:
    """Every stage's backlog, from the sources down (see the module's docstring)."""
    cfg, lh = monitor.cfg, monitor.ctx.lakehouse
    out: list[StageBacklog] = []
    tasks = {t.name: t for t in monitor.supervisor.tasks}
    streams = {s.name: s for s in monitor.supervisor.streams}
    for name, spec in streams.items():
        if name.startswith("bronze."):
            source = lh.source(name.removeprefix("bronze."))
            out.append(_stream(name, spec.query, source, probe.version(source), probe.checkpoint(name)))
    for name, task in tasks.items():
        if name.startswith("bronze."):
            source = lh.source(name.removeprefix("bronze."))
            out.append(_task(name, task, source, probe.committed_at(source)))
    silver = [t for t in tasks if t.startswith("silver.")]
    if silver:
        from lakesentinel.silver.plan import silver_tasks

        offsets = {}
        state = lh.name("ops", "processing_state")
        if probe.version(state) is not None:
            offsets = {r["task"]: r["last_cdf_version"] for r in probe.rows(state)}
        for task in silver_tasks():
            if task.name not in tasks:
                continue
            bronze = bronze_name(cfg, task.source)
            latest = probe.version(bronze)
            if latest is None:
                out.append(StageBacklog(task.name, bronze, 0, "no table yet"))
                continue
            done = offsets.get(task.name)
            out.append(StageBacklog(task.name, bronze, max(0, latest - (-1 if done is None else done))))
    for name, spec in streams.items():
        if name.startswith("detectors."):
            detector = next(s for s in monitor.detector_specs if f"detectors.{s.id}" == name)
            bronze = bronze_name(cfg, detector.metric.source)
            out.append(_stream(name, spec.query, bronze, probe.version(bronze), probe.checkpoint(name)))
    for name, task in tasks.items():
        if name.startswith("gold."):
            inputs = [probe.committed_at(lh.name("silver", t)) for t in _silver_targets(tasks)]
            out.append(_task(name, task, "plt_silver", max(filter(None, inputs), default=None)))
    if monitor.lifecycle is not None:
        out.append(_lifecycle(monitor.lifecycle.lifecycle, probe, lh))
    if monitor.worker is not None:
        out.append(_worker(monitor.worker, probe, lh))
    return out


def _silver_targets(tasks: dict) -> list[str]:
    from lakesentinel.silver.plan import silver_tasks

    return [t.target for t in silver_tasks() if t.name in tasks]


def _lifecycle(lc, probe: TableProbe, lh: Lakehouse) -> StageBacklog:
    alerts = lh.name("ops", "alerts")
    latest = probe.version(alerts)
    behind = 0 if latest is None else max(0, latest - lc.offsets.get("alerts", -1))
    if behind:
        return StageBacklog("lifecycle", alerts, behind)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    waiting = [g for g in list(lc.engine.groups.values()) if g.flushed_at is None]
    if waiting:
        due = max((g.next_flush_at.replace(tzinfo=None) - now).total_seconds() for g in waiting)
        return StageBacklog("lifecycle", alerts, 1, f"{len(waiting)} group(s) in group_wait, {max(0.0, due):.0f}s left")
    if lc.pending_fact:
        return StageBacklog("lifecycle", alerts, 1, f"{len(lc.pending_fact)} incident(s) wait for fact_incident")
    return StageBacklog("lifecycle", alerts, 0)


def _worker(worker, probe: TableProbe, lh: Lakehouse) -> StageBacklog:
    outbox = lh.name("ops", "action_outbox")
    latest = probe.version(outbox)
    if latest is not None and latest > worker.outbox_version:
        return StageBacklog("worker", outbox, latest - worker.outbox_version, "outbox commits not taken yet")
    in_flight = sum(q.unfinished_tasks for q in list(worker.lanes.values()))
    return StageBacklog("worker", outbox, in_flight)


@dataclass
class BacklogSample:
    at: float  # seconds since the run began
    phase: str
    behind: dict[str, int]


class BacklogTrace:
    """Backlog samples through a run: the peak of each stage, and whether it grew while data flowed."""

    def __init__(self) -> None:
        self.samples: list[BacklogSample] = []
        self.began = time.time()

    def add(self, phase: str, stages: list[StageBacklog]) -> None:
        self.samples.append(BacklogSample(round(time.time() - self.began, 1), phase, {s.stage: s.behind for s in stages}))

    def summary(self, phase: str = "live") -> dict[str, dict]:
        """Per stage: peak backlog and when, backlog at the start and end of ``phase``, whether it grew
        through that phase (ended higher than it began: the machine did not keep up with the rate) and
        since when (the seconds into the run of the last rise above the start that lasted to the end)."""
        out: dict[str, dict] = {}
        stages = sorted({k for s in self.samples for k in s.behind})
        during = [s for s in self.samples if s.phase == phase]
        for stage in stages:
            series = [(s.at, s.behind.get(stage, 0)) for s in self.samples]
            peak_at, peak = max(series, key=lambda p: (p[1], -p[0]))
            live = [(s.at, s.behind.get(stage, 0)) for s in during]
            start, end = (live[0][1], live[-1][1]) if live else (0, 0)
            grew = bool(live) and end > start
            since = None
            if grew:
                for at, behind in reversed(live):
                    if behind <= start:
                        break
                    since = at
            out[stage] = {"peak": peak, "peak_at_s": peak_at, f"{phase}_start": start, f"{phase}_end": end,
                          "grew": grew, "grew_since_s": since}
        return out

    def growing(self, phase: str = "live") -> list[str]:
        """Stages whose backlog is now above what it was when ``phase`` began."""
        return sorted(k for k, v in self.summary(phase).items() if v["grew"])
