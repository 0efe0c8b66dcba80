"""End-to-end latency of the running monitor: a source row's commit -> its alert row -> a receiver.

The whole monitor runs as ``lakesentinel stream all`` runs it (bronze with rules on the hot path,
silver, detectors, the lifecycle and the delivery worker) on a scratch lakehouse, while the simulator
appends to the source tables at ``rate`` events per second in one-second commits. Beside the shipped
rule packs, ``bench/latency_probe.yaml`` turns about one audit row in 256 into its own alert, so there
is a steady stream of alerts to time. For every alert whose source row was committed after the warm-up:

- ``alert``: the alert row's commit to ``plt_ops.alerts`` (its change feed's ``_commit_timestamp``)
  minus ``source_committed_at`` (the source commit of the newest row behind it);
- ``delivered``: the first notification carrying its incident at the local signed webhook, minus the
  same source commit.

One day of history is written first and the monitor reads it before the clock starts, so start-up is
not counted as latency. The run is the demo's (:mod:`lakesentinel.demo.live_run`): after the live phase
it drains to the barrier, so every alert of a timed row is in before measuring.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pyspark.sql import SparkSession

from lakesentinel.demo.live_run import LiveRunOptions, LiveRunState, run_monitor_live
from lakesentinel.evaluation import latency_samples, percentiles
from lakesentinel.monitor import MonitorOptions
from lakesentinel.settings import Settings

PROBE = Path(__file__).with_name("latency_probe.yaml")
PROBE_RULE = "reliability.bench_latency_probe"


@dataclass
class LatencyOptions:
    rate: float = 1000.0
    seconds: float = 120.0  # live phase, after which the source stops growing
    warmup_s: float = 20.0  # rows committed in the first seconds of the live phase are not timed
    drain_cap_s: float = 900.0  # the most to wait after the live phase for every stage to catch up
    profile: str = "medium"
    seed: int = 7
    silver: bool = True
    detectors: bool = True
    catch_up_timeout_s: float = 900.0


def run(spark: SparkSession, cfg: Settings, opts: LatencyOptions,
        on_phase: Callable[[str], None] = lambda phase: None) -> dict:
    # Enough simulated days that the live phase never runs out of rows at this rate.
    per_day = {"small": 4_000, "medium": 40_000, "large": 300_000}.get(opts.profile, 40_000)
    live_days = max(1, int(opts.rate * opts.seconds / per_day) + 1)
    monitor = MonitorOptions(silver=opts.silver, detectors=opts.detectors,
                             rule_paths=[cfg.paths.resolve("rules"), PROBE])
    run_opts = LiveRunOptions(profile=opts.profile, seed=opts.seed, history_days=1, live_days=live_days,
                              rate=opts.rate, live_seconds=opts.seconds, monitor=monitor,
                              history_cap_s=opts.catch_up_timeout_s, drain_cap_s=opts.drain_cap_s,
                              console_routes=False)

    def on_poll(state: LiveRunState) -> None:
        behind = sum(s.behind for s in state.backlog)
        on_phase(f"{state.phase} ({behind} commit(s) behind)" if behind else state.phase)

    result = run_monitor_live(spark, cfg, run_opts, on_poll)
    on_phase("measuring")
    timed = latency_samples(spark, cfg, result.received, since=result.live_began + opts.warmup_s,
                            probe_rule=PROBE_RULE)
    live_s = result.live_ended - result.live_began
    alert, delivered = percentiles(timed["alert"]), percentiles(timed["delivered"])
    return {
        "bench": "latency", "profile": opts.profile, "rate": opts.rate, "live_seconds": round(live_s, 1),
        "events_per_s": round(result.events / live_s, 1), "events": result.events,
        "silver": opts.silver, "detectors": opts.detectors,
        "caught_up": result.caught_up, "phase_seconds": result.phases,
        "behind": [s.describe() for s in result.behind],
        "backlog_grew": sorted(k for k, v in result.backlog.items() if v["grew"]),
        "alerts_timed": alert["n"], "alert_rules": timed["rules"], "notifications_timed": delivered["n"],
        "p50_alert_s": _r(alert["p50"]), "p95_alert_s": _r(alert["p95"]), "p99_alert_s": _r(alert["p99"]),
        "p50_delivered_s": _r(delivered["p50"]), "p95_delivered_s": _r(delivered["p95"]),
        "p99_delivered_s": _r(delivered["p99"]),
        "probe_p95_alert_s": _r(percentiles(timed["probe"])["p95"]),
        "cores": os.cpu_count(),
        "samples": {"alert_s": [round(x, 3) for x in timed["alert"]],
                    "delivered_s": [round(x, 3) for x in timed["delivered"]]},
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def plot(result: dict, path: Path) -> Path:
    """Histogram and empirical CDF of both latencies, with p50/p95/p99 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (hist, cdf) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label, colour in (("alert_s", "source commit -> alert row", "tab:blue"),
                               ("delivered_s", "source commit -> webhook", "tab:orange")):
        values = np.sort(np.array(result["samples"][key], dtype=float))
        if values.size == 0:
            continue
        hist.hist(values, bins=40, alpha=0.6, color=colour, label=label)
        cdf.plot(values, np.arange(1, values.size + 1) / values.size, color=colour, label=label)
        for q, style in ((50, ":"), (95, "--"), (99, "-.")):
            cdf.axvline(np.percentile(values, q), color=colour, linestyle=style, linewidth=0.8)
    hist.set_xlabel("seconds")
    hist.set_ylabel("alerts")
    hist.legend()
    cdf.set_xlabel("seconds (dotted p50, dashed p95, dash-dot p99)")
    cdf.set_ylabel("share of alerts")
    cdf.legend(loc="lower right")
    fig.suptitle(f"lakesentinel latency at {result['events_per_s']:g} events/s ({result['profile']}, "
                 f"{result['cores']} cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
