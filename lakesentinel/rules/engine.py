"""The rules engine on the hot path: ``RuleEngine.evaluate`` inside ``foreachBatch``.

Per call: check the rule files' modification times and recompile what changed (hot reload), run one
Spark job that projects the batch onto every rule of its source and keeps the matching rows
(:mod:`~lakesentinel.rules.matchframe`), evaluate match, threshold and sequence rules on the driver
(:mod:`~lakesentinel.rules.windows`), append the changed window state to ``plt_ops.rule_state`` in one
write, and return the alerts as a DataFrame of ``ALERT_SCHEMA`` for the alert sink.

A rule whose expressions fail at run time is quarantined (reported in :attr:`RuleEngine.issues`)
until its file changes; the other rules keep running. Usage inside a stream::

    engine = RuleEngine(spark, cfg)

    def on_batch(batch_df, batch_id):
        alerts = engine.evaluate("access.audit", batch_df, batch_id=batch_id, query_id=query_id)
        write_alerts(spark, cfg, alerts)
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from lakesentinel.clock import naive_utc
from lakesentinel.logs import get_logger
from lakesentinel.opstables import Tables
from lakesentinel.session_kind import cancellable_jobs
from lakesentinel.rules import windows
from lakesentinel.rules.analysis import reason
from lakesentinel.rules.compiler import CompiledRule
from lakesentinel.rules.emit import alert_record, alerts_frame
from lakesentinel.rules.enrich import Enricher
from lakesentinel.rules.issues import Issue, RuleNotFoundError
from lakesentinel.rules.loader import Changes, RuleLoader
from lakesentinel.rules.matchframe import MatchPlan, MatchRows
from lakesentinel.rules.state import StateLog, StateStore

log = get_logger(__name__)


@dataclass
class BatchReport:
    """What the last evaluate call did, for logs and benchmarks."""

    source: str
    batch_id: int
    rules: int = 0
    matched_rows: int = 0
    late_rows: int = 0
    alerts: int = 0
    seconds: float = 0.0
    collect_seconds: float = 0.0
    reloaded: bool = False
    quarantined: list[str] = field(default_factory=list)


CANCEL_EVERY_S = 0.5  # past the batch budget, how often the rules' jobs are cancelled again


class BudgetExceeded(Exception):
    """A Spark evaluation of rules was cancelled after the batch budget."""


class RuleEngine:
    """Evaluates the enabled rules of a source on micro-batches; see the module docstring."""

    def __init__(self, spark: SparkSession, cfg, *, paths: list[Path] | None = None,
                 rule_ids: list[str] | None = None, durable: bool = True, store: StateStore | None = None,
                 clock: Callable[[], datetime] | None = None, hot_reload: bool = True,
                 budget_s: float | None = None, ops_tables: Tables | None = None):
        self.spark, self.cfg = spark, cfg
        self.ops_tables = ops_tables  # where quarantines are recorded (plt_ops.rule_quarantine); None: not kept
        self.budget_s = budget_s or cfg.rules.batch_budget_s
        self.loader = RuleLoader(paths or [cfg.paths.resolve("rules")], root=Path(cfg.paths.resolve("rules")).parent)
        self.hot_reload = hot_reload
        self._reload_lock = threading.Lock()
        self._source_locks: dict[str, threading.Lock] = {}
        self.loader.refresh()
        self.rule_ids = set(rule_ids) if rule_ids else None
        if self.rule_ids:
            unknown = self.rule_ids - set(self.loader.rules)
            if unknown:
                raise RuleNotFoundError(f"no such rule(s): {', '.join(sorted(unknown))}")
        self.store = store if store is not None else StateStore(StateLog(spark, cfg) if durable else None)
        self.enricher = Enricher(spark, cfg)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.quarantined: dict[str, tuple[str, str]] = {}  # rule id -> (version, reason)
        self._plans: dict[str, tuple[int, MatchPlan]] = {}
        self.last: BatchReport | None = None
        self.analyse()

    # ---- the rule set ------------------------------------------------------------------------
    @property
    def issues(self) -> list[Issue]:
        """Problems in rule files, and rules quarantined at run time (the stream reports these)."""
        runtime = [Issue("error", "runtime", f"quarantined until its file changes: {reason}",
                         self.loader.rules[r].file if r in self.loader.rules else "", 0, 0, r)
                   for r, (_, reason) in self.quarantined.items()]
        return list(self.loader.issues) + runtime

    def refresh(self) -> Changes:
        """Pick up edited rule files (cheap when nothing changed: one stat per file)."""
        with self._reload_lock:
            changes = self.loader.refresh()
            if changes:
                for rule_id, (version, _) in list(self.quarantined.items()):
                    current = self.loader.rules.get(rule_id)
                    if current is None or current.version != version:
                        del self.quarantined[rule_id]
                self.analyse()
                log.info("rules reloaded", extra={"added": changes.added, "changed": changes.changed,
                                                  "removed": changes.removed, "rules": len(self.loader.rules)})
            return changes

    def analyse(self) -> None:
        """Quarantine the rules Spark cannot analyse before they meet a batch (each version once)."""
        from lakesentinel.rules.analysis import analyze_once

        runnable = [r for r in self.loader.rules.values() if r.rule.runnable and r.id not in self.quarantined
                    and (self.rule_ids is None or r.id in self.rule_ids)]
        for issue in analyze_once(self.spark, runnable):
            self._quarantine(self.loader.rules[issue.id], issue.message, None)

    def rules(self, source: str | None = None) -> list[CompiledRule]:
        out = []
        for rule in self.loader.rules.values():
            if not rule.rule.runnable or rule.id in self.quarantined:
                continue
            if self.rule_ids is not None and rule.id not in self.rule_ids:
                continue
            if source is None or rule.source.name == source:
                out.append(rule)
        return sorted(out, key=lambda r: r.id)

    def sources(self) -> list[str]:
        """System tables that at least one enabled rule reads."""
        return sorted({r.source.name for r in self.rules()})

    def plan(self, source: str, rules: list[CompiledRule], passthrough: tuple[str, ...] = ()) -> MatchPlan:
        key = f"{source}|{','.join(passthrough)}"
        cached = self._plans.get(key)
        ids = [r.id + "@" + r.version for r in rules]
        if cached is not None and cached[0] == ids:
            return cached[1]
        plan = MatchPlan.build(rules[0].source, rules, passthrough)
        self._plans[key] = (ids, plan)
        return plan

    # ---- evaluation --------------------------------------------------------------------------
    def evaluate(self, source: str, batch_df: DataFrame, *, batch_id: int, query_id: str) -> DataFrame:
        """Alerts (ALERT_SCHEMA) for one micro-batch of ``source``; safe to call again for the same batch."""
        return alerts_frame(self.spark, self.evaluate_records(source, batch_df, batch_id=batch_id,
                                                              query_id=query_id))

    def evaluate_records(self, source: str, batch_df: DataFrame, *, batch_id: int, query_id: str) -> list[dict]:
        """As :meth:`evaluate`, as a list of alert dicts (backtests and tests read these)."""
        began = time.perf_counter()
        report = BatchReport(source, batch_id)
        if self.hot_reload:
            report.reloaded = bool(self.refresh())
        lock = self._source_locks.setdefault(source, threading.Lock())
        with lock:
            rules = self.rules(source)
            report.rules = len(rules)
            if not rules:
                self.last = report
                return []
            t0 = time.perf_counter()
            rows, rules = self.collect(source, batch_df, rules, report=report)
            report.collect_seconds = time.perf_counter() - t0
            records = self.evaluate_rows(rows, rules, batch_id=batch_id, query_id=query_id, report=report)
        report.seconds = time.perf_counter() - began
        self.last = report
        return records

    def evaluate_rows(self, rows: MatchRows, rules: list[CompiledRule], *, batch_id: int, query_id: str,
                      report: BatchReport | None = None) -> list[dict]:
        """The driver half of a batch: evaluate collected rows, commit state, build alert records."""
        report = report or BatchReport(rules[0].source.name if rules else "", batch_id)
        batch = self.store.begin(query_id, batch_id)
        for rule in rules:
            if rule.stateful:
                self.store.rule_state(rule.id, rule.signature)
        stats = windows.EvaluationStats()
        firings: list[windows.Firing] = []
        for rule in rules:
            try:
                firings += windows.evaluate(rule, rows, self.store, batch, stats)
            except Exception as exc:  # a bug in one rule's evaluation must not stop the others
                self._quarantine(rule, f"evaluation failed: {type(exc).__name__}: {exc}", report)
        self.store.commit(batch)
        detected = self.clock()
        records = [alert_record(f, detected) for f in firings]
        report.matched_rows, report.late_rows, report.alerts = stats.matched, stats.late, len(records)
        if report.late_rows:
            log.info("late rows dropped by windowed rules",
                     extra={"source": report.source, "late": report.late_rows, "batch_id": batch_id})
        return records

    def collect(self, source: str, df: DataFrame, rules: list[CompiledRule], *, passthrough: tuple[str, ...] = (),
                report: BatchReport | None = None) -> tuple[MatchRows, list[CompiledRule]]:
        """One Spark job for all rules; if it fails, find the rule at fault, quarantine it, run the rest."""
        report = report or BatchReport(source, -1)
        needed = set().union(*(r.enrichments for r in rules))
        enriched = self.enricher.apply(source, df, needed) if needed else df
        plan = self.plan(source, rules, passthrough)
        try:
            return self.within_budget(enriched, lambda: plan.collect(enriched)), rules
        except Exception as exc:  # noqa: BLE001  (Spark raises many types; the fallback sorts them out)
            log.warning("combined rule evaluation failed, isolating the rule at fault: %s", reason(exc))
        good = []
        for rule in rules:
            alone = MatchPlan.build(rule.source, [rule], passthrough)
            try:
                self.within_budget(enriched, lambda: alone.collect(enriched))
                good.append(rule)
            except BudgetExceeded as exc:
                self._quarantine(rule, str(exc), report)
            except Exception as exc:  # noqa: BLE001
                self._quarantine(rule, f"Spark could not evaluate it: {reason(exc)}", report)
        if not good:
            empty = MatchPlan.build(rules[0].source, rules, passthrough)
            return MatchRows.from_arrow(empty, empty.projection(enriched).limit(0).toArrow()), []
        return self.plan(source, good, passthrough).collect(enriched), good

    def within_budget(self, df: DataFrame, action: Callable[[], MatchRows]) -> MatchRows:
        """Run ``action`` (Spark jobs over ``df``); cancel them once the batch budget is spent.

        A cancelled task stops at its next row. Past the budget the cancel is repeated every
        ``CANCEL_EVERY_S`` until the action gives up: a cancel reaches only the jobs running at that
        moment, and a query submits more as it goes (adaptive stages, ``toArrow``'s result job), which
        is why a single cancel at the deadline let the job run to its end.
        """
        expired, done = threading.Event(), threading.Event()
        # A stream's batches run in a clone of the session: its jobs are the ones to group.
        jobs = cancellable_jobs(df.sparkSession, f"lakesentinel-rules-{uuid.uuid4().hex}")

        def cancel_past_budget() -> None:
            if done.wait(self.budget_s):
                return
            expired.set()
            while True:
                try:
                    jobs.cancel()
                except Exception as exc:  # noqa: BLE001 - a failed cancel is retried; the next may land
                    log.warning("could not cancel the rules' Spark jobs: %s", exc)
                if done.wait(CANCEL_EVERY_S):
                    return

        with jobs:
            watchdog = threading.Thread(target=cancel_past_budget, name="rules-budget", daemon=True)
            watchdog.start()
            try:
                return action()
            except Exception:
                if expired.is_set():
                    raise BudgetExceeded(f"its evaluation took more than the batch budget of {self.budget_s:g} s "
                                         "(rules.batch_budget_s)") from None
                raise
            finally:
                done.set()
                watchdog.join()

    def _quarantine(self, rule: CompiledRule, reason: str, report: BatchReport | None) -> None:
        self.quarantined[rule.id] = (rule.version, reason)
        if report is not None:
            report.quarantined.append(rule.id)
        log.error("rule quarantined", extra={"rule_id": rule.id, "rule_version": rule.version, "reason": reason})
        if self.ops_tables is not None:
            from lakesentinel.rules.quarantine import QUARANTINE, QUARANTINE_SCHEMA, quarantine_row

            row = quarantine_row(rule, reason, report.batch_id if report is not None else -1,
                                 naive_utc(self.clock()))
            try:
                self.ops_tables.append(self.ops_tables.name("ops", QUARANTINE), [row], QUARANTINE_SCHEMA)
            except Exception as exc:  # noqa: BLE001 - the batch must land even if the record cannot be kept
                log.error("could not record the quarantine of %s: %s", rule.id, exc)

