"""The Platform Health app's speed: the overview's first render in a real browser, and p95 of every
API call, over a lakehouse a month long.

A simulated organisation lands ``days`` days (or an existing lakehouse is used as it is); bronze with
the rules, silver, the lifecycle (no detectors) and a gold build follow. Then the app is served as the
demo serves it, and:

- first render: headless chromium opens the overview with the app's cache empty and waits until the
  health scores, the spend chart and the freshness table show; the time from navigation to then;
- API: each read endpoint is called ``rounds`` times as a page polls it (the app's few-second cache
  included, as in use); p50/p95 per endpoint and over all calls, and the first (uncached) call apart.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import httpx
from pyspark.sql import SparkSession

from lakesentinel.settings import Settings

ENDPOINTS = ("/api/meta", "/api/overview", "/api/domains/cost", "/api/domains/security", "/api/domains/performance",
             "/api/domains/reliability", "/api/incidents", "/api/review/trends", "/api/silences")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def seed(spark: SparkSession, cfg: Settings, profile: str, days: int, seed_: int = 7) -> dict:
    """A month of an organisation through the monitor and gold; seconds per phase."""
    from lakesentinel.gold.plan import run_gold
    from lakesentinel.context import Context
    from lakesentinel.monitor import MonitorOptions
    from lakesentinel.simulator.clock import to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.run import run_batch

    out = {}
    began = time.perf_counter()
    summary = run_batch(cfg, Simulator(profile, seed_, to_us(date(2026, 3, 2)), days, warmup_days=1))
    out["simulate_s"] = round(time.perf_counter() - began, 1)
    out["source_rows"] = summary.total_rows
    began = time.perf_counter()
    Context(cfg, spark=spark).monitor(MonitorOptions(detectors=False)).run_once()
    out["monitor_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    run_gold(spark, cfg)
    out["gold_s"] = round(time.perf_counter() - began, 1)
    return out


def percentile(values: list[float], q: float) -> float:
    """>>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)
    10
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_render(url: str) -> float:
    """Seconds from navigation until the overview shows its scores, spend chart and freshness table."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        began = time.perf_counter()
        page.goto(url)
        for selector in (".score", "figure.chart .recharts-line", "table caption"):
            page.wait_for_selector(selector, timeout=120_000)
        seconds = time.perf_counter() - began
        browser.close()
    return seconds


def measure(spark: SparkSession, cfg: Settings, rounds: int = 30) -> dict:
    from lakesentinel.app.composition import build_app
    from lakesentinel.app.server import AppServer

    app = build_app(cfg, spark)
    server = AppServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            client.get("/api/meta")  # the server is up; the app's cache is still empty
            render_s = first_render(server.url)
            app.state.context.cache.clear()
            calls: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
            for _ in range(rounds):
                for endpoint in ENDPOINTS:
                    began = time.perf_counter()
                    client.get(endpoint).raise_for_status()
                    calls[endpoint].append((time.perf_counter() - began) * 1000)
    finally:
        server.stop()
    every = [ms for values in calls.values() for ms in values]
    return {
        "overview_first_render_s": round(render_s, 3),
        "api_p95_ms": round(percentile(every, 0.95), 1),
        "api_p50_ms": round(statistics.median(every), 1),
        "api_first_call_ms": {e: round(v[0], 1) for e, v in calls.items()},
        "api_p95_ms_by_endpoint": {e: round(percentile(v, 0.95), 1) for e, v in calls.items()},
        "calls": len(every),
        "rounds": rounds,
    }
