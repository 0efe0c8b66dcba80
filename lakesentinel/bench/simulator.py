"""Generator throughput: rows written per second and peak memory of a batch simulation."""

from __future__ import annotations

import resource
import time
from datetime import date

from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch


def run(cfg: Settings, profile: str = "large", days: int = 30, seed: int = 7, on_day=None) -> dict:
    began = time.perf_counter()
    sim = Simulator(profile, seed, to_us(date(2026, 1, 5)), days)
    summary = run_batch(cfg, sim, on_day=on_day)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bench": "simulator", "profile": profile, "days": days, "total_rows": summary.total_rows,
        "seconds": round(seconds, 2), "rows_per_s": round(summary.total_rows / seconds),
        "peak_memory_mb": round(peak_mb), "rows": summary.rows,
    }
