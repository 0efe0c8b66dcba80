"""One live run of the whole monitor on a simulated organisation: what the demo and ``bench latency`` share.

Three phases, each timed:

1. **history**: the simulator writes ``history_days`` at once (the detectors' baseline) and the monitor
   works through them until every stage has covered them (or ``history_cap_s`` passes);
2. **live**: the simulator appends ``rate`` events per second in one-second commits until its days run
   out (or ``live_seconds`` pass), while every stream runs;
3. **drain**: the sources stop growing and the run waits for a barrier, not a clock: every stream has
   read its source's latest version, every silver, detector and gold task has covered it, and the
   lifecycle and the worker have handled every alert. ``drain_cap_s`` bounds the wait; a run that
   reaches it reports each stage still behind and by how much (``caught_up`` is then False).

Notifications go to the console and to a local webhook receiver that checks each request's HMAC
signature. The backlog of every stage is sampled through the run (:class:`~lakesentinel.backlog.BacklogTrace`).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from pyspark.sql import SparkSession

from lakesentinel.backlog import BacklogTrace, StageBacklog
from lakesentinel.demo.receiver import WebhookReceiver
from lakesentinel.demo.routes import SECRET_ENV, URL_ENV, write_routes
from lakesentinel.logs import register_secret
from lakesentinel.context import Context
from lakesentinel.monitor import MonitorOptions
from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import from_us, to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_live

# Two passes in a row must find every stage covered: a stage between two micro-batches is not done.
STEADY_PASSES = 2


@dataclass
class LiveRunOptions:
    profile: str = "small"
    seed: int = 42
    history_days: int = 7
    live_days: int = 1
    rate: float = 60.0
    live_seconds: float | None = None  # stop the live phase after this long (None: when the days run out)
    monitor: MonitorOptions = field(default_factory=MonitorOptions)
    history_cap_s: float = 1800.0  # go live after this long even if the history is not covered yet
    drain_cap_s: float = 1800.0  # give up the barrier after this long: the report names what is behind
    poll_s: float = 2.0
    console_routes: bool = True  # notifications to the console too (the demo), or only to the webhook
    console: object = None  # where the console receiver writes: the demo's rich Console (default stderr)


@dataclass
class LiveRunState:
    """What the run looks like now: read by a live view on each poll."""

    phase: str = "writing history"
    events: int = 0
    sim_time: str = ""
    notifications: int = 0
    backlog: list[StageBacklog] = field(default_factory=list)
    growing: list[str] = field(default_factory=list)  # stages behind more than when the live phase began


@dataclass
class LiveRunResult:
    sim: Simulator
    received: list  # the webhook receiver's notes
    phases: dict[str, float]  # seconds of history, live and drain
    history_caught_up: bool
    caught_up: bool
    behind: list[StageBacklog]  # stages not covered when the run stopped (empty when caught up)
    backlog: dict[str, dict]  # per stage: peak, start and end of the live phase, grew
    events: int  # events written in the live phase
    live_began: float  # wall clock
    live_ended: float

    @property
    def simulated_days(self) -> int:
        return self.sim.org.days

    @property
    def wall_seconds(self) -> float:
        return sum(self.phases.values())


def first_monday(days: int) -> date:
    """Start of a run of ``days`` days ending about today, on a Monday (live days are working days)."""
    latest = datetime.now(timezone.utc).date() - timedelta(days=days)
    return latest - timedelta(days=latest.weekday())


def run_monitor_live(spark: SparkSession, cfg: Settings, opts: LiveRunOptions,
                     on_poll: Callable[[LiveRunState], None] = lambda state: None) -> LiveRunResult:
    secret = secrets.token_hex(16)
    register_secret(secret)
    receiver = WebhookReceiver(secret).start()
    try:
        os.environ[URL_ENV], os.environ[SECRET_ENV] = receiver.url, secret
        routes = write_routes(Path(cfg.state_root), console=opts.console_routes)
        cfg = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"routes": str(routes)})})
        return _run(spark, cfg, opts, receiver, on_poll)
    finally:
        receiver.stop()


def _run(spark, cfg, opts: LiveRunOptions, receiver: WebhookReceiver, on_poll) -> LiveRunResult:
    days = opts.history_days + opts.live_days
    sim = Simulator(opts.profile, opts.seed, to_us(first_monday(days)), days, warmup_days=opts.history_days)
    state = LiveRunState()
    trace = BacklogTrace()
    ready, simulated, go_live = threading.Event(), threading.Event(), threading.Event()
    live = {"events": 0}

    def on_tick(tick: int, n: int, sim_now: int) -> None:
        if tick:
            live["events"] += n
        state.events += n
        state.sim_time = from_us(sim_now).strftime("%Y-%m-%d %H:%M")
        ready.set()

    def simulate() -> None:
        try:
            run_live(cfg, sim, rate=opts.rate, interval_s=1.0, duration_s=opts.live_seconds, on_tick=on_tick,
                     catch_up_days=opts.history_days, gate=go_live.wait)
        finally:
            simulated.set()
            ready.set()

    began = time.time()
    threading.Thread(target=simulate, name="simulator", daemon=True).start()
    ready.wait()
    monitor = Context(cfg, spark=spark, console=opts.console).monitor(opts.monitor)
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,), name="monitor", daemon=True)
    runner.start()

    def poll(phase: str, label: str) -> bool:
        """Sample every stage's backlog; True when all are covered."""
        state.phase = label
        state.notifications = len(receiver.received)
        try:
            state.backlog = monitor.backlog() if monitor.lifecycle is not None or not opts.monitor.lifecycle else []
        except Exception as exc:  # a table mid-creation: the next poll sees it
            state.backlog = [StageBacklog("monitor", "?", 1, f"backlog not readable yet: {exc}"[:200])]
        if state.backlog:
            trace.add(phase, state.backlog)
            if phase == "live":
                state.growing = trace.growing("live")
        on_poll(state)
        return bool(state.backlog) and all(s.caught_up for s in state.backlog)

    def until(phase: str, label: str, done: Callable[[bool], bool], cap_s: float | None) -> bool:
        """Poll until ``done(steady)`` (steady: every stage covered in the last passes); False at the cap."""
        start, steady = time.time(), 0
        while runner.is_alive():
            steady = steady + 1 if poll(phase, label) else 0
            if done(steady >= STEADY_PASSES):
                return True
            if cap_s is not None and time.time() - start >= cap_s:
                return False
            time.sleep(opts.poll_s)
        return False

    history_caught_up = until("history", "monitor reading the history", lambda steady: steady, opts.history_cap_s)
    go_live.set()
    live_began = time.time()
    until("live", f"live at {opts.rate:g} events/s", lambda steady: simulated.is_set(), None)
    live_ended = time.time()
    caught_up = until("drain", "draining to the barrier", lambda steady: steady, opts.drain_cap_s)
    drained = time.time()
    behind = [] if caught_up else [s for s in state.backlog if not s.caught_up]
    if not caught_up and not behind:
        behind = [StageBacklog("monitor", "-", 1, "the monitor stopped before the barrier")]
    state.phase = "stopping"
    on_poll(state)
    stop.set()
    runner.join(timeout=300)
    phases = {"history": live_began - began, "live": live_ended - live_began, "drain": drained - live_ended}
    return LiveRunResult(sim=sim, received=list(receiver.received),
                         phases={k: round(v, 1) for k, v in phases.items()},
                         history_caught_up=history_caught_up, caught_up=caught_up, behind=behind,
                         backlog=trace.summary("live"), events=live["events"],
                         live_began=live_began, live_ended=live_ended)
