"""The demo, start to end: a simulated organisation lands live while the whole monitor runs.

1. History first: a few days of the organisation are written at once, so detectors have a baseline.
2. Then the simulator goes live at a set rate (events per second) with every scenario type injected,
   while the monitor runs every stream: bronze (rules score each micro-batch), silver, detectors, the
   incident lifecycle and the action worker, which posts to the console and a local signed webhook.
3. The run drains to a barrier (every stage has covered the last commit; :mod:`lakesentinel.demo.live_run`).
   A live view shows incidents as they open and resolve, and how far behind each stage is. At the end:
   scenarios found against those injected, false incidents per simulated day, latency from source
   commit to alert row and to the webhook, the seconds of each phase and each stage's backlog.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from pyspark.sql import SparkSession
from rich.console import Console
from rich.live import Live

from lakesentinel.demo.live_run import LiveRunOptions, LiveRunResult, LiveRunState, run_monitor_live
from lakesentinel.demo.view import read_rows, render
from lakesentinel.evaluation import Outcome, evaluate, latency_samples, percentiles
from lakesentinel.context import Context
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.monitor import MonitorOptions
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import from_us


@dataclass
class DemoOptions:
    profile: str = "small"
    history_days: int = 7
    live_days: int = 1
    rate: float = 60.0
    seed: int = 42
    detectors: bool = True
    drain_cap_s: float = 1800.0  # the most the demo waits for every stage to catch up after the last event
    app_port: int | None = 8765  # the Platform Health app on 127.0.0.1 (None: no app; 0: any free port)


def start_app(spark: SparkSession, cfg: Settings, port: int | None, console: Console):
    """Serve the Platform Health app over the demo's lakehouse while the monitor runs."""
    if port is None:
        return None
    from lakesentinel.app.composition import build_app
    from lakesentinel.app.server import AppServer, free_port

    try:
        server = AppServer(build_app(cfg, spark), "127.0.0.1", port).start()
    except (OSError, RuntimeError):  # the port is taken: any free one will do
        server = AppServer(build_app(cfg, spark), "127.0.0.1", free_port()).start()
    console.print(f"Platform Health app: [bold]{server.url}[/] (while the demo runs)")
    return server


def reset(cfg: Settings) -> None:
    """Remove the embedded lakehouse's tables, checkpoints and state (the demo starts clean)."""
    Context(cfg).require_local("the demo")
    for root in (cfg.storage_root, cfg.checkpoint_root, cfg.state_root):
        shutil.rmtree(root, ignore_errors=True)


def run_demo(spark: SparkSession, cfg: Settings, opts: DemoOptions, console: Console) -> dict:
    reset(cfg)
    lh = Lakehouse(cfg)
    incidents_path = lh.location(lh.name("gold", "fact_incident"))
    alerts_path = lh.location(lh.name("ops", "alerts"))
    run_opts = LiveRunOptions(console=console, profile=opts.profile, seed=opts.seed, history_days=opts.history_days,
                              live_days=opts.live_days, rate=opts.rate, drain_cap_s=opts.drain_cap_s,
                              monitor=MonitorOptions(detectors=opts.detectors))
    app_server = start_app(spark, cfg, opts.app_port, console)
    try:
        with Live(render([], 0, LiveRunState()), console=console, refresh_per_second=1, transient=False) as live:
            def on_poll(state: LiveRunState) -> None:
                live.update(render(read_rows(incidents_path), len(read_rows(alerts_path, ["alert_id"])), state))

            result = run_monitor_live(spark, cfg, run_opts, on_poll)
        return report(spark, cfg, result, opts)
    finally:
        if app_server is not None:
            app_server.stop()


def report(spark: SparkSession, cfg: Settings, result: LiveRunResult, opts: DemoOptions) -> dict:
    lh = Lakehouse(cfg)
    incidents = read_rows(lh.location(lh.name("gold", "fact_incident")))
    sim = result.sim
    truths = [t.row() for t in sim.truths]
    for t in truths:  # the ground truth holds microseconds; incidents hold datetimes
        t["start_time"], t["end_time"] = from_us(t["start_time"]), from_us(t["end_time"])
    conditions = [c.row() | {"start_time": from_us(c.start_time), "end_time": from_us(c.end_time)}
                  for c in sim.conditions]
    outcome = evaluate(incidents, truths, conditions, simulated_days=result.simulated_days)
    samples = latency_samples(spark, cfg, result.received, since=result.live_began)
    latency = {"alert": percentiles(samples["alert"]), "delivered": percentiles(samples["delivered"])}
    return summary(outcome, latency, opts, result)


def summary(outcome: Outcome, latency: dict, opts: DemoOptions, result: LiveRunResult) -> dict:
    return {
        "scenarios_injected": outcome.scenarios, "scenarios_found": outcome.found,
        "recall": round(outcome.recall, 3),
        "by_type": {k: {"found": f, "injected": n} for k, (f, n) in outcome.by_type.items()},
        "missed": [t["scenario_type"] for t in outcome.missed],
        "incidents": outcome.incidents, "true_incidents": outcome.true_incidents,
        "condition_incidents": outcome.condition_incidents,
        "false_incidents": len(outcome.false_incidents),
        "false_incidents_per_day": round(outcome.false_per_day, 2),
        "false_incident_rules": sorted({i["rule_id"] for i in outcome.false_incidents}),
        "simulated_days": result.simulated_days, "events": result.events, "rate": opts.rate,
        "caught_up": result.caught_up, "history_caught_up": result.history_caught_up,
        "phase_seconds": result.phases, "wall_seconds": round(result.wall_seconds, 1),
        "behind": [s.describe() for s in result.behind],
        "backlog": result.backlog, "backlog_grew": sorted(k for k, v in result.backlog.items() if v["grew"]),
        "webhook_notifications": len(result.received),
        "webhook_signed": sum(1 for r in result.received if r.signed),
        "latency_alert_s": latency["alert"], "latency_delivered_s": latency["delivered"],
    }
