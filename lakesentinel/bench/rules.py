"""Hot-path cost of the rules engine: micro-batch time with the full packs vs no rules.

A simulated organisation's system tables are cut into micro-batches of ``rate`` events (one second of
traffic at that rate, split across the sources in their natural proportions, in event-time order).
Each micro-batch runs what ``foreachBatch`` does for every source: land the batch (a ``noop`` write
stands in for bronze, so the figure is the engine's and not Delta's), ``RuleEngine.evaluate`` with
durable state under a scratch ``plt_ops``, and materialise the alerts (``noop`` sink). The same
batches run once with the shipped packs and once with an empty rules folder. The micro-batch time
covers all sources one after another; in the monitor each source is its own stream, so the evaluate
time per source is reported too. Figures include the machine's load: run it on a quiet machine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Callable

from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.context import Context
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _clear_state(spark, cfg: Settings) -> None:
    lh = Lakehouse(cfg)
    name = lh.name("ops", "rule_state")
    if lh.exists(spark, name):
        spark.sql(f"DELETE FROM {name}")


def run(spark, cfg: Settings, rates: list[int], batches: int = 20, profile: str = "medium",
        log: Callable[[str], None] = print) -> dict:
    engine = Context(cfg, spark=spark).rules_engine(hot_reload=False)
    sources = engine.sources()
    needed = max(rates) * batches
    days, total = 1, 0
    lh = Lakehouse(cfg)
    while True:
        began = time.perf_counter()
        summary = run_batch(cfg, Simulator(profile, 3, to_us(date(2026, 3, 2)), days, warmup_days=0))
        total = sum(summary.rows.get(s, 0) for s in sources)
        log(f"simulated {profile}, {days} day(s): {total:,} rows in rule sources ({time.perf_counter() - began:.0f}s)")
        if total >= needed or days >= 8:
            break
        days = min(8, days * 2 if total * 2 < needed else days + 1)
    frames = {}
    for source in sources:
        info = engine.rules(source)[0].source
        df = lh.read(spark, lh.source(source))
        n = df.count()
        frames[source] = (df.withColumn("_rn", F.row_number().over(Window.orderBy(info.time_column)) - 1), n)
    total = sum(n for _, n in frames.values())
    runs = []
    empty = Path(tempfile.mkdtemp(prefix="lakesentinel-no-rules-"))
    for rate in rates:
        per_source = {s: max(1, round(rate * n / max(total, 1))) for s, (_, n) in frames.items()}
        cached = {s: df.withColumn("_batch", F.floor(F.col("_rn") / F.lit(per_source[s])).cast("int"))
                  .where(F.col("_batch") < batches).drop("_rn").cache() for s, (df, _) in frames.items()}
        for df in cached.values():
            df.count()
        for label, paths in (("full packs", None), ("no rules", [empty])):
            _clear_state(spark, cfg)  # each run starts its windows from the first batch
            engine = Context(cfg, spark=spark).rules_engine(paths=paths, hot_reload=False)
            times, evals, alerts = [], [], 0
            timings: dict[str, list[float]] = {s: [] for s in cached}
            for i in range(batches):
                t0 = time.perf_counter()
                evaluate_s = 0.0
                for source, df in cached.items():
                    batch = (df.where(F.col("_batch") == i).drop("_batch")
                             .withColumn("_source_commit_timestamp", F.current_timestamp()))
                    batch.write.format("noop").mode("overwrite").save()
                    e0 = time.perf_counter()
                    out = engine.evaluate(source, batch, batch_id=i, query_id=f"bench-{rate}-{source}")
                    evaluate_s += time.perf_counter() - e0
                    timings[source].append(time.perf_counter() - e0)
                    out.write.format("noop").mode("overwrite").save()
                    alerts += engine.last.alerts if engine.last else 0
                times.append(time.perf_counter() - t0)
                evals.append(evaluate_s)
            steady = times[2:] if len(times) > 4 else times  # the first batches compile plans and warm caches
            steady_eval = evals[2:] if len(evals) > 4 else evals
            row = {"rate": rate, "rules": label, "rule_count": len(engine.rules()), "batches": batches,
                   "rows_per_batch": sum(per_source.values()), "p50_s": statistics.median(steady),
                   "p95_s": _percentile(steady, 0.95), "max_s": max(steady),
                   "evaluate_p50_s": statistics.median(steady_eval), "evaluate_p95_s": _percentile(steady_eval, 0.95),
                   # Each source is its own stream in the monitor: its own evaluate is what its latency pays.
                   "evaluate_p95_by_source_s": {src: round(_percentile(v[2:] or v, 0.95), 3)
                                                for src, v in timings.items()},
                   "alerts": alerts}
            runs.append(row)
            slowest = max(row["evaluate_p95_by_source_s"].items(), key=lambda kv: kv[1])
            log(f"{rate:,} events/s, {label}: micro-batch p50 {row['p50_s']:.3f}s p95 {row['p95_s']:.3f}s "
                f"(evaluate p50 {row['evaluate_p50_s']:.3f}s; slowest source {slowest[0]} p95 {slowest[1]:.3f}s), "
                f"{alerts} alert(s)")
        for df in cached.values():
            df.unpersist()
    return {"bench": "rules", "profile": profile, "simulated_days": days, "rows_in_sources": total,
            "sources": sources, "runs": runs}
