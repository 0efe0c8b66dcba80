"""Backtests: what would the rules have fired over stored history, and was it right?

The source tables are read in event-time chunks (a day by default, starting one longest window early
so windows are warm), and each chunk goes through :meth:`RuleEngine.evaluate_records`, the same path
as the stream, with state kept in memory. Alerts are counted per rule per day. Where the simulator's
ground truth covers the period, each alert is a true positive if it names an entity of a scenario
(the scenario's entity, any entity it lists, or its workspace for workspace-level alerts of the same
domain, for alerts about a total such as a workspace's or team's spend) and its window overlaps the
scenario's, give or take an hour. Precision is per rule; recall
is per rule over the scenario types the rule lists in ``backtest.ground_truth``, and per scenario
over all rules of its domain.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
from pyspark.sql import functions as F

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.rules.engine import RuleEngine
from lakesentinel.truth import ALERT_SLACK, overlaps, truth_names

log = get_logger(__name__)
COLLECT_CHUNKS = 7
# Entity types of alerts about a total (a workspace's or a team's spend) rather than one resource.
AGGREGATE_ENTITIES = ("workspace", "team")


@dataclass
class RuleScore:
    rule_id: str
    domain: str
    alerts: int = 0
    true_alerts: int = 0
    per_day: dict[str, int] = field(default_factory=dict)
    expected: list[str] = field(default_factory=list)  # scenario ids this rule should find
    found: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return len(self.found) / len(self.expected) if self.expected else None

    def to_dict(self) -> dict:
        return {"rule_id": self.rule_id, "domain": self.domain, "alerts": self.alerts, "true_alerts": self.true_alerts,
                "false_alerts": self.alerts - self.true_alerts, "precision": self.precision, "recall": self.recall,
                "expected_scenarios": len(self.expected), "found_scenarios": len(self.found), "per_day": self.per_day}


@dataclass
class BacktestResult:
    since: datetime
    until: datetime
    rules: list[str]
    alerts: list[dict]
    scores: dict[str, RuleScore]
    truths: list[dict]
    detected: dict[str, list[str]]  # scenario id -> rules that found it
    rows: dict[str, int]
    seconds: float
    has_ground_truth: bool

    @property
    def days(self) -> float:
        return max((self.until - self.since).total_seconds() / 86400, 1e-9)

    def false_alerts_per_day(self, domain: str | None = None) -> float:
        scores = [s for s in self.scores.values() if domain is None or s.domain == domain]
        return sum(s.alerts - s.true_alerts for s in scores) / self.days

    def scenario_recall(self, domain: str | None = None) -> tuple[int, int]:
        truths = [t for t in self.truths if domain is None or t["domain"] == domain]
        return sum(1 for t in truths if self.detected.get(t["scenario_id"])), len(truths)

    def to_dict(self) -> dict:
        domains = sorted({s.domain for s in self.scores.values()})
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(), "days": round(self.days, 3),
            "rules": len(self.rules), "alerts": len(self.alerts), "seconds": round(self.seconds, 2),
            "matched_rows": self.rows,
            "ground_truth": self.has_ground_truth,
            "false_alerts_per_day": {d: round(self.false_alerts_per_day(d), 3) for d in domains},
            "scenarios": {d: dict(zip(("found", "total"), self.scenario_recall(d))) for d in domains},
            "missed": [{"scenario_id": t["scenario_id"], "type": t["scenario_type"], "entity": t["entity_id"]}
                       for t in self.truths if not self.detected.get(t["scenario_id"])],
            "per_rule": [s.to_dict() for s in sorted(self.scores.values(), key=lambda s: s.rule_id)],
        }


def run_backtest(spark, cfg, *, since: datetime, until: datetime, rule_ids: list[str] | None = None,
                 paths=None, chunk: timedelta = timedelta(days=1),
                 on_chunk: Callable[[str, datetime], None] | None = None) -> BacktestResult:
    began = time.perf_counter()
    since, until = _utc(since), _utc(until)
    engine = RuleEngine(spark, cfg, paths=paths, rule_ids=rule_ids, durable=False, hot_reload=False)
    rules = engine.rules()
    lh = Lakehouse(cfg)
    alerts: list[dict] = []
    rows: dict[str, int] = {}
    for source in engine.sources():
        source_rules = engine.rules(source)
        warmup = timedelta(seconds=max(r.window_s for r in source_rules) + max(r.lateness_s for r in source_rules))
        info = source_rules[0].source
        table = lh.source(source)
        if not lh.exists(spark, table):
            log.warning("backtest: source table %s does not exist; skipping %s", table, source)
            continue
        start = since - warmup
        t = F.col(info.time_column)
        chunk_us = int(chunk.total_seconds() * 1_000_000)
        start_us = int(start.timestamp() * 1_000_000)
        df = lh.read(spark, table).where((t >= F.lit(start)) & (t < F.lit(until)))
        df = df.withColumn("_chunk", F.floor((F.unix_micros(t) - F.lit(start_us)) / F.lit(chunk_us)).cast("int"))
        chunks = int((until - start) / chunk) + 1
        # Collect a week of chunks per Spark job, then feed them to the evaluators one chunk (batch) at a time.
        for first in range(0, chunks, COLLECT_CHUNKS):
            part = df.where((F.col("_chunk") >= first) & (F.col("_chunk") < first + COLLECT_CHUNKS))
            collected, good = engine.collect(source, part, source_rules, passthrough=("_chunk",))
            ids = np.asarray(collected.columns["_chunk"], dtype=np.int64) if collected.n else np.zeros(0, np.int64)
            for k in range(first, min(first + COLLECT_CHUNKS, chunks)):
                subset = collected.subset(np.nonzero(ids == k)[0])
                records = engine.evaluate_rows(subset, good, batch_id=k, query_id=f"backtest:{source}")
                rows[source] = rows.get(source, 0) + subset.n
                alerts += [a for a in records if a["window_end"] > since and a["window_start"] < until]
                if on_chunk:
                    on_chunk(source, start + chunk * k)
    truths = _ground_truth(spark, cfg, since, until)
    return score(rules, alerts, truths, since, until, rows, time.perf_counter() - began, truths is not None)


def score(rules, alerts: list[dict], truths: list[dict] | None, since: datetime, until: datetime,
          rows: dict[str, int], seconds: float, has_truth: bool) -> BacktestResult:
    scores = {r.id: RuleScore(r.id, r.rule.domain) for r in rules}
    truths = truths or []
    detected: dict[str, list[str]] = defaultdict(list)
    for rule in rules:
        wanted = set(rule.rule.backtest.ground_truth) if rule.rule.backtest else set()
        scores[rule.id].expected = [t["scenario_id"] for t in truths if t["scenario_type"] in wanted]
    days: dict[str, Counter] = defaultdict(Counter)
    for a in alerts:
        s = scores[a["rule_id"]]
        s.alerts += 1
        days[a["rule_id"]][a["window_start"].date().isoformat()] += 1
        hits = [t for t in truths if matches(a, t)]
        if hits:
            s.true_alerts += 1
        for t in hits:
            if a["rule_id"] not in detected[t["scenario_id"]] and t["domain"] == a["domain"]:
                detected[t["scenario_id"]].append(a["rule_id"])
            if t["scenario_id"] in s.expected and t["scenario_id"] not in s.found:
                s.found.append(t["scenario_id"])
    for rule_id, counter in days.items():
        scores[rule_id].per_day = dict(sorted(counter.items()))
    return BacktestResult(since, until, [r.id for r in rules], alerts, scores, truths, dict(detected), rows, seconds,
                          has_truth)


def matches(alert: dict, truth: dict) -> bool:
    """The alert names an entity of the scenario and its window overlaps the scenario's (an hour either way)."""
    if not overlaps(alert["window_start"], alert["window_end"], truth["start_time"], truth["end_time"], ALERT_SLACK):
        return False
    if alert["entity_id"] is not None and alert["entity_id"] in truth_names(truth):
        return True
    return (alert["entity_type"] in AGGREGATE_ENTITIES and alert["workspace_id"] == truth["workspace_id"]
            and alert["domain"] == truth["domain"])


def _ground_truth(spark, cfg, since: datetime, until: datetime) -> list[dict] | None:
    lh = Lakehouse(cfg)
    name = cfg.simulator.ground_truth_table
    try:
        if not lh.exists(spark, name):
            return None
        rows = lh.read(spark, name).collect()
    except Exception as exc:  # noqa: BLE001  (no ground truth is a normal case for real data)
        log.info("no ground truth table %s: %s", name, exc)
        return None
    out = []
    for r in rows:
        d = r.asDict()
        d["start_time"], d["end_time"] = _utc(d["start_time"]), _utc(d["end_time"])
        d["entities"] = dict(d["entities"] or {})
        if d["end_time"] > since and d["start_time"] < until:
            out.append(d)
    return out


def _utc(d: datetime) -> datetime:
    return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d.astimezone(timezone.utc)
