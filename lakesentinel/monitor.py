"""The running monitor: the one place that wires every stage together.

Bronze streams land the system tables and, in the same micro-batch, hand them to the rules engine
(alerts are written before bronze, so scoring adds no Delta hop); silver tasks curate; detector streams
score windowed aggregates per entity from bronze; the lifecycle turns alerts into incidents and
notifications; the worker delivers them. A metrics listener records every batch. Everything runs
continuously (the monitor) or once, draining what is there (a scheduled run).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame

from lakesentinel.alerts.sink import ensure_alerts_table, write_alerts
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.rules.emit import alerts_frame
from lakesentinel.settings import Settings
from lakesentinel.session import scheduler_pool, use_pool
from lakesentinel.streams.bronze import BatchContext, bronze_changes
from lakesentinel.streams.ingest import add_bronze
from lakesentinel.streams.metrics import MetricsListener, MetricsRecorder
from lakesentinel.streams.supervisor import Supervisor
from lakesentinel.streams.triggers import trigger

if TYPE_CHECKING:
    from lakesentinel.context import Context

log = get_logger(__name__)


@dataclass
class MonitorOptions:
    scheduled: bool = False
    silver: bool = True
    rules: bool = True
    detectors: bool = True
    gold: bool = False  # the star schema rebuilt incrementally as silver grows (needs silver)
    lifecycle: bool = True
    worker: bool = True
    tables: list[str] | None = None  # sources to ingest (default: all configured)
    detector_ids: list[str] | None = None  # detectors to run (default: all)
    rule_paths: list[Path] | None = None  # rule files or folders (default: paths.rules)
    source_options: dict[str, str] = field(default_factory=dict)


class Monitor:
    """Built by the composition root (``Context.monitor``), which gives it the session, the rules engine,
    the lifecycle and the delivery worker."""

    def __init__(self, ctx: Context, options: MonitorOptions | None = None):
        self.ctx = ctx
        spark, cfg = self.spark, self.cfg = ctx.spark, ctx.cfg
        self.options = options or MonitorOptions()
        self.recorder = MetricsRecorder()
        self.listener = MetricsListener(self.recorder)
        self.supervisor = Supervisor(recorder=self.recorder, flush=lambda: self.recorder.flush(spark, cfg))
        self.engine = None
        self.detector_specs = []
        self.lifecycle = None  # the running lifecycle's handle, while it runs
        self.worker = None  # the running action worker, while it runs
        self._probe = None
        self._built = False

    # ---- scoring on the hot path -------------------------------------------------------------------
    def _score(self, batch: DataFrame, context: BatchContext) -> None:
        records = self.engine.evaluate_records(context.system_table, batch, batch_id=context.batch_id,
                                               query_id=context.app_id)
        if records:  # most batches alert on nothing: no commit for them
            alerts = alerts_frame(self.spark, records)
            write_alerts(self.spark, self.cfg, alerts, txn=(f"{context.app_id}.rules", context.batch_id))

    def hooks(self, system_table: str) -> list:
        """What runs on each bronze micro-batch of ``system_table`` before it is written: the rules."""
        if self.engine is not None and system_table in self.engine.sources():
            return [self._score]
        return []

    def _start_detector(self, spec):
        from lakesentinel.detectors.stream import detector_stream

        lh = Lakehouse(self.cfg)
        name = f"detectors.{spec.id}"
        alerts = detector_stream(self.spark, self.cfg, spec, bronze_changes(self.spark, self.cfg, spec.metric.source))

        def sink(df: DataFrame, batch_id: int) -> None:
            use_pool(df.sparkSession, "scoring")
            write_alerts(self.spark, self.cfg, df, txn=(f"lakesentinel.{name}.{query.id}", batch_id))

        with scheduler_pool(self.spark, "scoring"):
            query = (alerts.writeStream.foreachBatch(sink).queryName(name)
                     .option("checkpointLocation", lh.checkpoint(name))
                     .trigger(**trigger(self.cfg, name, self.options.scheduled)).start())
        return query

    # ---- wiring ------------------------------------------------------------------------------------
    def build(self) -> Supervisor:
        if self._built:
            return self.supervisor
        opts = self.options
        if opts.rules or opts.detectors:
            # Created here, once: scoring streams starting together would race to create it.
            ensure_alerts_table(self.spark, self.cfg)
        if opts.rules:
            self.engine = self.ctx.rules_engine(paths=opts.rule_paths)
        add_bronze(self.supervisor, self.spark, self.cfg, scheduled=opts.scheduled, tables=opts.tables,
                   hooks=self.hooks, source_options=opts.source_options or None)
        if self.supervisor.tasks or opts.silver:
            from lakesentinel.streams.offsets import Offsets

            Offsets(self.spark, self.cfg)  # created once, before lanes of tasks race to create it
        if opts.silver:
            from lakesentinel.silver.plan import add_silver

            add_silver(self.supervisor, self.spark, self.cfg)
            if opts.gold:
                from lakesentinel.gold.plan import add_gold

                add_gold(self.supervisor, self.spark, self.cfg)
        if opts.detectors:
            from lakesentinel.detectors.spec import load_specs

            self.detector_specs = [s for s in load_specs(self.cfg.paths.resolve("detectors"))
                                   if opts.detector_ids is None or s.id in opts.detector_ids]
            for spec in self.detector_specs:
                self.supervisor.add_stream(f"detectors.{spec.id}", lambda s=spec: self._start_detector(s))
        self._built = True
        return self.supervisor

    def backlog(self) -> list:
        """What each stage has not covered yet of its input (:mod:`lakesentinel.backlog`)."""
        from lakesentinel.backlog import TableProbe, stage_backlog

        self._probe = self._probe or TableProbe(self)
        return stage_backlog(self, self._probe)

    def caught_up(self) -> bool:
        """Every stage has covered the latest commit of what it reads (streams, tasks, lifecycle, worker)."""
        if not self.supervisor.streams and not self.supervisor.tasks:
            return False
        return all(stage.caught_up for stage in self.backlog())

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set (SIGTERM in the CLI), then stop every part cleanly."""
        self.build()
        self.spark.streams.addListener(self.listener)
        lifecycle = worker = None
        worker_stop = threading.Event()
        try:
            if self.options.lifecycle:
                from lakesentinel.alerts.lifecycle import start_lifecycle

                lifecycle = self.lifecycle = start_lifecycle(self.ctx.lifecycle())
            if self.options.worker:
                self.worker = self.ctx.worker(worker_stop)
                worker = threading.Thread(target=self.worker.run, name="action-worker", daemon=True)
                worker.start()
            self.supervisor.run(stop)
        finally:
            worker_stop.set()
            if lifecycle is not None:
                lifecycle.stop()
            if worker is not None:
                worker.join(timeout=60)
            self.lifecycle = self.worker = None
            self.spark.streams.removeListener(self.listener)

    def run_once(self) -> dict:
        """A scheduled run: drain every source through every stage once, then stop."""
        self.options.scheduled = True
        self.build()
        self.spark.streams.addListener(self.listener)
        try:
            results = self.supervisor.run_once()
            if self.options.lifecycle:
                from lakesentinel.alerts.lifecycle import lifecycle_drain

                results["lifecycle"] = lifecycle_drain(self.ctx.lifecycle())
            if self.options.worker:
                results["worker"] = self.ctx.worker().run(until_idle=True)
            self.recorder.mark_drained()
            return results
        finally:
            self.recorder.flush(self.spark, self.cfg)
            self.spark.streams.removeListener(self.listener)
