"""Detectors against the simulator: write an organisation with injected scenarios into a scratch
lakehouse, stream every detector over its source tables (the same streaming code the monitor runs),
and evaluate the alerting windows against the ground truth (:mod:`~lakesentinel.detectors.evaluation`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakesentinel.detectors.evaluation import Evaluation, evaluate_detections, truth_attributes
from lakesentinel.detectors.spec import DetectorSpec
from lakesentinel.detectors.stream import detector_scores, source_stream
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings, settings_at

# Columns the evaluation reads back from the scores.
_SCORE_FIELDS = ("entity", "entity_id", "window_start", "window_end", "score", "severity", "cold_start")


@dataclass(frozen=True)
class ScenarioPlan:
    """What to simulate: every seed is one organisation with ``per_type`` instances of each scenario type."""

    profile: str = "medium"
    days: int = 21
    seeds: tuple[int, ...] = (21, 22, 23)
    per_type: int = 3
    warmup_days: int = 7
    start: date = date(2026, 3, 2)  # a Monday

    @property
    def burn_in_end(self) -> pd.Timestamp:
        return pd.Timestamp(self.start + timedelta(days=self.warmup_days), tz="UTC")


@dataclass
class SeedResult:
    seed: int
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    scenarios: int = 0
    rows: int = 0


def simulate(home: Path, plan: ScenarioPlan, seed: int) -> tuple[Settings, int, int]:
    """Write one simulated organisation under ``home``; returns its settings, scenarios and rows."""
    from lakesentinel.simulator.clock import to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.run import run_batch

    cfg = settings_at(home)
    sim = Simulator(plan.profile, seed, to_us(plan.start), plan.days, per_type=plan.per_type,
                    warmup_days=plan.warmup_days)
    summary = run_batch(cfg, sim)
    return cfg, len(sim.truths), summary.total_rows


def stream_scores(spark: SparkSession, cfg: Settings, spec: DetectorSpec, out: Path) -> pd.DataFrame:
    """Run the detector's stream over everything in the source table once; the windows it scored."""
    shutil.rmtree(out, ignore_errors=True)
    # One source commit (a simulated day) per micro-batch, as the data would have landed: a stream
    # that swallowed the whole history in one batch would see every entity in its first batch.
    source = source_stream(spark, cfg, spec.metric.source, maxFilesPerTrigger="1")
    query = (detector_scores(spark, cfg, spec, source).writeStream.format("delta")
             .option("checkpointLocation", str(out / "checkpoint")).trigger(availableNow=True)
             .queryName(f"evaluate_{spec.id.replace('.', '_')}").start(str(out / "scores")))
    query.awaitTermination()
    if not (out / "scores" / "_delta_log").is_dir():
        return pd.DataFrame(columns=list(_SCORE_FIELDS))
    frame = spark.read.format("delta").load(str(out / "scores")).select(*_SCORE_FIELDS).toPandas()
    for column in ("window_start", "window_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
    frame["entity"] = frame["entity"].map(lambda e: dict(e or {}))
    return frame


def ground_truth(spark: SparkSession, cfg: Settings) -> pd.DataFrame:
    """The scenarios injected, with what identifies each one's entity (and the SKUs it billed)."""
    lh = Lakehouse(cfg)
    truths = lh.read(spark, cfg.simulator.ground_truth_table).toPandas()
    for column in ("start_time", "end_time"):
        truths[column] = pd.to_datetime(truths[column], utc=True)
    truths["entities"] = truths["entities"].map(lambda e: dict(e or {}))
    usage = lh.read(spark, lh.source("billing.usage")).where(F.col("record_type") == "ORIGINAL").select(
        "sku_name", "usage_start_time", "usage_end_time",
        F.col("usage_metadata.cluster_id").alias("cluster_id"), F.col("usage_metadata.warehouse_id").alias("warehouse_id"),
        F.col("usage_metadata.job_id").alias("job_id"))
    skus: dict[str, set[str]] = {}
    for key in ("cluster_id", "warehouse_id", "job_id"):
        wanted = {(t.scenario_id, t.entities[key]) for t in truths.itertuples() if key in t.entities}
        if not wanted:
            continue
        ids = sorted({v for _, v in wanted})
        billed = usage.where(F.col(key).isin(ids)).select(key, "sku_name", "usage_start_time", "usage_end_time").toPandas()
        for t in truths.itertuples():
            if key not in t.entities:
                continue
            rows = billed[(billed[key] == t.entities[key])
                          & (pd.to_datetime(billed["usage_start_time"]).dt.tz_localize("UTC") < t.end_time)
                          & (pd.to_datetime(billed["usage_end_time"]).dt.tz_localize("UTC") > t.start_time)]
            skus.setdefault(t.scenario_id, set()).update(rows["sku_name"])
    return truth_attributes(truths, skus)


def run(spark: SparkSession, specs: list[DetectorSpec], plan: ScenarioPlan, scratch: Path,
        on_step: Callable[[str], None] | None = None, keep: bool = False) -> list[SeedResult]:
    """Simulate each seed, stream each spec over it and evaluate; scratch data is removed unless ``keep``."""
    results = []
    step = on_step or (lambda message: None)
    for seed in plan.seeds:
        home = scratch / f"seed-{seed}"
        shutil.rmtree(home, ignore_errors=True)
        step(f"seed {seed}: simulating {plan.profile}, {plan.days} days")
        cfg, scenarios, rows = simulate(home, plan, seed)
        truths = ground_truth(spark, cfg)
        result = SeedResult(seed, scenarios=scenarios, rows=rows)
        for spec in specs:
            step(f"seed {seed}: streaming {spec.id}")
            scores = stream_scores(spark, cfg, spec, home / "detectors" / spec.id)
            result.evaluations[spec.id] = evaluate_detections(
                scores, truths, spec.evaluation.scenarios, pd.Timedelta(seconds=spec.metric.window.size_seconds),
                plan.burn_in_end)
        results.append(result)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    return results


def combined(results: list[SeedResult]) -> dict[str, Evaluation]:
    """Counts of every seed added up, per detector."""
    out: dict[str, Evaluation] = {}
    for result in results:
        for detector, evaluation in result.evaluations.items():
            out[detector] = evaluation if detector not in out else out[detector] + evaluation
    return out
