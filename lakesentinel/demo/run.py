"""The demo, start to end: a simulated organisation lands live while the whole monitor runs.

1. History first: a few days of the organisation are written at once, so detectors have a baseline.
2. Then the simulator goes live at a set rate (events per second) with every scenario type injected,
   while the monitor runs every stream: bronze (rules score each micro-batch), silver, detectors, the
   incident lifecycle and the action worker, which posts to the console and a local signed webhook.
3. A live view shows incidents as they open and resolve. At the end: scenarios found against those
   injected, false incidents per simulated day, and latency from source commit to alert row and to the
   webhook.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pyspark.sql import SparkSession
from rich.console import Console
from rich.live import Live

from lakesentinel.demo.receiver import WebhookReceiver
from lakesentinel.demo.routes import SECRET_ENV, URL_ENV, write_routes
from lakesentinel.demo.view import Progress, read_rows, render
from lakesentinel.errors import LakeSentinelError
from lakesentinel.evaluation import Outcome, evaluate, latency_samples, percentiles
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import register_secret
from lakesentinel.monitor import Monitor, MonitorOptions
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import from_us, to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_live


@dataclass
class DemoOptions:
    profile: str = "small"
    history_days: int = 7
    live_days: int = 1
    rate: float = 60.0
    seed: int = 42
    drain_s: float = 75.0
    detectors: bool = True
    catch_up_timeout_s: float = 600.0
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
    if not cfg.storage_root:
        raise LakeSentinelError(f"{cfg.config_file}: the demo runs on the embedded default (runtime local)")
    for root in (cfg.storage_root, cfg.checkpoint_root, cfg.state_root):
        shutil.rmtree(root, ignore_errors=True)


def run_demo(spark: SparkSession, cfg: Settings, opts: DemoOptions, console: Console) -> dict:
    reset(cfg)
    secret = secrets.token_hex(16)
    register_secret(secret)
    receiver = WebhookReceiver(secret).start()
    os.environ[URL_ENV], os.environ[SECRET_ENV] = receiver.url, secret
    routes = write_routes(Path(cfg.state_root))
    cfg = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"routes": str(routes)})})

    days = opts.history_days + opts.live_days
    # Start on a Monday, so the live days are working days (weekends are quiet, as in real accounts).
    latest = datetime.now(timezone.utc).date() - timedelta(days=days)
    first_day = latest - timedelta(days=latest.weekday())
    sim = Simulator(opts.profile, opts.seed, to_us(first_day), days, warmup_days=opts.history_days)
    progress = Progress(phase="writing history")
    ready, simulated, go_live = threading.Event(), threading.Event(), threading.Event()

    def on_tick(tick: int, n: int, sim_now: int) -> None:
        progress.events += n
        progress.sim_time = from_us(sim_now).strftime("%Y-%m-%d %H:%M")
        ready.set()

    def simulate() -> None:
        try:
            run_live(cfg, sim, rate=opts.rate, interval_s=1.0, on_tick=on_tick, catch_up_days=opts.history_days,
                     gate=go_live.wait)
        finally:
            simulated.set()
            ready.set()

    threading.Thread(target=simulate, name="simulator", daemon=True).start()
    ready.wait()
    monitor = Monitor(spark, cfg, MonitorOptions(detectors=opts.detectors))
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,), name="monitor", daemon=True)
    runner.start()
    app_server = start_app(spark, cfg, opts.app_port, console)
    lh = Lakehouse(cfg)
    incidents_path = lh.location(lh.name("gold", "fact_incident"))
    alerts_path = lh.location(lh.name("ops", "alerts"))
    began = time.time()
    live_began = began
    drained_at = None
    caught_up_by = time.time() + opts.catch_up_timeout_s
    with Live(render([], 0, progress), console=console, refresh_per_second=1, transient=False) as live:
        while True:
            progress.notifications = len(receiver.received)
            if not go_live.is_set():
                # Go live once the monitor has worked through the history (or has had long enough).
                if monitor.caught_up() or time.time() > caught_up_by:
                    go_live.set()
                    live_began = time.time()
                progress.phase = "monitor reading the history"
            elif simulated.is_set():
                drained_at = drained_at or time.time()
                progress.phase = f"draining ({opts.drain_s - (time.time() - drained_at):.0f}s)"
                if time.time() - drained_at >= opts.drain_s:
                    break
            else:
                progress.phase = f"live at {opts.rate:g} events/s"
            live.update(render(read_rows(incidents_path), len(read_rows(alerts_path, ["alert_id"])), progress))
            if not runner.is_alive():
                break
            time.sleep(2)
        progress.phase = "stopping"
        stop.set()
        runner.join(timeout=180)
        live.update(render(read_rows(incidents_path), len(read_rows(alerts_path, ["alert_id"])), progress))
    wall = time.time() - began

    incidents = read_rows(incidents_path)
    truths = [t.row() for t in sim.truths]
    for t in truths:  # the ground truth holds microseconds; incidents hold datetimes
        t["start_time"], t["end_time"] = from_us(t["start_time"]), from_us(t["end_time"])
    conditions = [c.row() | {"start_time": from_us(c.start_time), "end_time": from_us(c.end_time)}
                  for c in sim.conditions]
    outcome = evaluate(incidents, truths, conditions, simulated_days=days)
    samples = latency_samples(spark, cfg, receiver.received, since=live_began)
    latency = {"alert": percentiles(samples["alert"]), "delivered": percentiles(samples["delivered"])}
    receiver.stop()
    if app_server is not None:
        app_server.stop()
    return report(outcome, latency, opts, wall, progress.events, len(receiver.received),
                  sum(1 for r in receiver.received if r.signed))


def report(outcome: Outcome, latency: dict, opts: DemoOptions, wall: float, events: int, notifications: int,
           signed: int) -> dict:
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
        "simulated_days": opts.history_days + opts.live_days, "events": events, "rate": opts.rate,
        "wall_seconds": round(wall, 1), "webhook_notifications": notifications, "webhook_signed": signed,
        "latency_alert_s": latency["alert"], "latency_delivered_s": latency["delivered"],
    }
