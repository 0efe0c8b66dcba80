"""Batch and live runs of the simulator into the configured local source tables."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa

from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import DAY, from_us
from lakesentinel.simulator.generator import IN_PLACE, Rows, Simulator, Timeline
from lakesentinel.sources.writer import SourceWriter

GROUND_TRUTH_SCHEMA = pa.schema([
    ("scenario_id", pa.string()), ("scenario_type", pa.string()), ("domain", pa.string()),
    ("start_time", pa.timestamp("us", tz="UTC")), ("end_time", pa.timestamp("us", tz="UTC")),
    ("workspace_id", pa.string()), ("entity_type", pa.string()), ("entity_id", pa.string()),
    ("entities", pa.map_(pa.string(), pa.string())), ("description", pa.string()),
])


@dataclass
class RunSummary:
    rows: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    scenarios: int = 0
    commits: int = 0
    seconds: float = 0.0
    start: str = ""
    end: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _write(writer: SourceWriter, batch: Rows, metadata: dict | None) -> int:
    commits = 0
    for table, rows in sorted(batch.items()):
        if rows:
            writer.write_rows(table, rows, in_place=table in IN_PLACE, metadata=metadata)
            commits += 1
    return commits


def write_ground_truth(writer: SourceWriter, cfg: Settings, sim: Simulator) -> None:
    """Injected scenarios to the ground-truth table; standing conditions to ``<schema>.conditions`` beside it."""
    rows = [t.row() for t in sim.truths]
    writer.write_table(cfg.simulator.ground_truth_table, pa.Table.from_pylist(rows, schema=GROUND_TRUTH_SCHEMA))
    conditions = [c.row() for c in sim.conditions]
    writer.write_table(conditions_table(cfg), pa.Table.from_pylist(conditions, schema=GROUND_TRUTH_SCHEMA))


def conditions_table(cfg: Settings) -> str:
    return cfg.simulator.ground_truth_table.rsplit(".", 1)[0] + ".conditions"


def run_batch(cfg: Settings, sim: Simulator, on_day: Callable[[int, int], None] | None = None) -> RunSummary:
    """Write the whole horizon: the initial state, then one commit per table per simulated day."""
    began = time.perf_counter()
    writer = SourceWriter(cfg)
    writer.create_all()
    timeline = Timeline()
    timeline.add(sim.initial_rows())
    commits = _write(writer, timeline.release(sim.start), {"simulator": "batch", "day": -1})
    write_ground_truth(writer, cfg, sim)
    for day in range(sim.org.days):
        timeline.add(sim.day_rows(day))
        commits += _write(writer, timeline.release(sim.start + (day + 1) * DAY), {"simulator": "batch", "day": day})
        if on_day:
            on_day(day, sim.org.days)
    return _summary(writer, sim, commits, began)


def run_live(cfg: Settings, sim: Simulator, rate: float, interval_s: float = 1.0,
             duration_s: float | None = None, on_tick: Callable[[int, int, int], None] | None = None,
             stop: Callable[[], bool] | None = None, catch_up_days: int = 0,
             gate: Callable[[], None] | None = None) -> RunSummary:
    """Append ``rate`` events per second of wall time, in event-time order, in small stamped commits.

    Each commit's ``userMetadata`` carries the wall-clock time it was made and the simulated time it
    reached, so that a benchmark can tell when a row landed. The first ``catch_up_days`` are written at
    once, a commit per table per day (history for detectors to warm up on), before pacing begins;
    ``gate`` (if given) is called then and pacing starts when it returns.
    """
    began = time.perf_counter()
    writer = SourceWriter(cfg)
    writer.create_all()
    timeline = Timeline()
    timeline.add(sim.initial_rows())
    commits = _write(writer, timeline.release(sim.start), {"simulator": "live", "tick": 0, "wall_clock": time.time()})
    write_ground_truth(writer, cfg, sim)
    loaded = 0  # days generated so far
    for day in range(min(catch_up_days, sim.org.days)):
        timeline.add(sim.day_rows(day))
        loaded += 1
        commits += _write(writer, timeline.release(sim.start + (day + 1) * DAY),
                          {"simulator": "live", "catch_up_day": day, "wall_clock": time.time()})
    if on_tick and loaded:
        on_tick(0, 0, sim.start + loaded * DAY)
    if gate is not None:
        gate()
    began = time.perf_counter()
    tick = 0
    per_tick = max(1, int(rate * interval_s))
    next_at = time.monotonic()
    while True:
        if stop and stop():
            break
        if duration_s is not None and time.perf_counter() - began >= duration_s:
            break
        # Keep at least a day ahead so that rows are released in true event-time order.
        while loaded < sim.org.days and (len(timeline) < 4 * per_tick or timeline.next_time() is None
                                         or timeline.next_time() >= sim.start + loaded * DAY):
            timeline.add(sim.day_rows(loaded))
            loaded += 1
        horizon = sim.start + loaded * DAY if loaded < sim.org.days else sim.end
        batch = timeline.release(horizon, limit=per_tick)
        if not batch:
            break
        tick += 1
        sim_now = max(r["_available_at"] for rows in batch.values() for r in rows)
        commits += _write(writer, batch, {"simulator": "live", "tick": tick, "wall_clock": time.time(),
                                          "sim_time": from_us(sim_now).isoformat()})
        if on_tick:
            on_tick(tick, sum(len(v) for v in batch.values()), sim_now)
        next_at += interval_s
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            next_at = time.monotonic()  # behind: do not try to catch up in a burst
    return _summary(writer, sim, commits, began)


def _summary(writer: SourceWriter, sim: Simulator, commits: int, began: float) -> RunSummary:
    return RunSummary(rows=dict(sorted(writer.rows_written.items())), checksums=writer.checksums(),
                      scenarios=len(sim.truths), commits=commits, seconds=time.perf_counter() - began,
                      start=from_us(sim.start).isoformat(), end=from_us(sim.end).isoformat())
