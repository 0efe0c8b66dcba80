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
not counted as latency.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from pyspark.sql import SparkSession

from lakesentinel.demo.receiver import WebhookReceiver
from lakesentinel.demo.routes import SECRET_ENV, URL_ENV, write_routes
from lakesentinel.evaluation import latency_samples, percentiles
from lakesentinel.logs import register_secret
from lakesentinel.monitor import Monitor, MonitorOptions
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_live

PROBE = Path(__file__).with_name("latency_probe.yaml")
PROBE_RULE = "reliability.bench_latency_probe"


@dataclass
class LatencyOptions:
    rate: float = 1000.0
    seconds: float = 120.0  # live phase, after which the source stops growing
    warmup_s: float = 20.0  # rows committed in the first seconds of the live phase are not timed
    drain_s: float = 45.0  # time left for the last alerts and notifications
    profile: str = "medium"
    seed: int = 7
    silver: bool = True
    detectors: bool = True
    catch_up_timeout_s: float = 900.0


def run(spark: SparkSession, cfg: Settings, opts: LatencyOptions,
        on_phase: Callable[[str], None] = lambda phase: None) -> dict:
    secret = secrets.token_hex(16)
    register_secret(secret)
    receiver = WebhookReceiver(secret).start()
    os.environ[URL_ENV], os.environ[SECRET_ENV] = receiver.url, secret
    routes = write_routes(Path(cfg.state_root), console=False)
    cfg = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"routes": str(routes)})})

    # Enough simulated days that the live phase never runs out of rows at this rate.
    per_day = {"small": 4_000, "medium": 40_000, "large": 300_000}.get(opts.profile, 40_000)
    live_days = max(1, int(opts.rate * (opts.seconds + opts.drain_s) / per_day) + 1)
    first = datetime.now(timezone.utc).date() - timedelta(days=1 + live_days)
    first -= timedelta(days=first.weekday())  # a Monday: working days, as in the demo
    sim = Simulator(opts.profile, opts.seed, to_us(first), 1 + live_days, warmup_days=1)

    go, ready = threading.Event(), threading.Event()
    live = {"began": None, "ended": None, "events": 0}

    def on_tick(tick: int, n: int, sim_now: int) -> None:
        if tick == 0:
            ready.set()
        else:
            live["events"] += n

    def simulate() -> None:
        def gate() -> None:
            go.wait()
            live["began"] = time.time()

        try:
            run_live(cfg, sim, rate=opts.rate, interval_s=1.0, duration_s=opts.seconds, on_tick=on_tick,
                     catch_up_days=1, gate=gate)
        finally:
            live["ended"] = time.time()
            ready.set()

    on_phase("writing a day of history")
    simulator = threading.Thread(target=simulate, name="simulator", daemon=True)
    simulator.start()
    ready.wait()
    monitor = Monitor(spark, cfg, MonitorOptions(silver=opts.silver, detectors=opts.detectors,
                                                 rule_paths=[cfg.paths.resolve("rules"), PROBE]))
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,), name="monitor", daemon=True)
    runner.start()
    try:
        on_phase("monitor reading the history")
        deadline = time.time() + opts.catch_up_timeout_s
        while not monitor.caught_up() and time.time() < deadline and runner.is_alive():
            time.sleep(1)
        on_phase(f"live at {opts.rate:g} events/s for {opts.seconds:g}s")
        go.set()
        simulator.join()
        on_phase(f"draining for {opts.drain_s:g}s")
        time.sleep(opts.drain_s)
    finally:
        stop.set()
        runner.join(timeout=180)
        receiver.stop()
    on_phase("measuring")
    timed = latency_samples(spark, cfg, receiver.received, since=live["began"] + opts.warmup_s, probe_rule=PROBE_RULE)
    live_s = live["ended"] - live["began"]
    alert, delivered = percentiles(timed["alert"]), percentiles(timed["delivered"])
    return {
        "bench": "latency", "profile": opts.profile, "rate": opts.rate, "live_seconds": round(live_s, 1),
        "events_per_s": round(live["events"] / live_s, 1), "events": live["events"],
        "silver": opts.silver, "detectors": opts.detectors,
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
