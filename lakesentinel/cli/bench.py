"""``lakesentinel bench ...``: every benchmark command (``lakesentinel/bench/``), figures printed and written as JSON."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lakesentinel.cli.common import console, date_keys_text, emit_json
from lakesentinel.context import Context

app = typer.Typer(help="Benchmarks; each prints figures, writes bench/results/<name>.json, and with --json "
                       "ends with one JSON line.", no_args_is_help=True)

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path


def scratch_settings(prefix: str):
    """Settings for a throw-away lakehouse, so a benchmark never touches the user's tables."""
    from lakesentinel.settings import settings_at

    home = tempfile.mkdtemp(prefix=prefix)
    return settings_at(home), home


@app.command("simulator")
def simulator(
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "large",
    days: Annotated[int, typer.Option(min=1)] = 30,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rows per second and peak memory of the simulator writing a whole horizon."""
    from lakesentinel.bench import simulator as bench

    cfg, home = scratch_settings("lakesentinel-bench-sim-")
    try:
        cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*cols, console=console, transient=True) as progress:
            task = progress.add_task(f"{profile}, {days} days", total=days)
            result = bench.run(cfg, profile, days, on_day=lambda d, n: progress.advance(task))
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    console.print(f"simulator ({profile}, {days} days): {result['total_rows']:,} rows in {result['seconds']}s = "
                  f"{result['rows_per_s']:,} rows/s; peak memory {result['peak_memory_mb']:,} MB")
    console.print(f"written to {save('simulator', result)}")
    if as_json:
        emit_json(result)


@app.command("throughput")
def throughput(
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "medium",
    days: Annotated[int, typer.Option(min=1)] = 3,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rows per second through bronze with the rules scoring each micro-batch, beside a plain Delta copy."""
    from lakesentinel.bench import throughput as bench

    cfg, home = scratch_settings("lakesentinel-bench-throughput-")
    try:
        with console.status(f"simulating {profile} for {days} day(s), then bronze and a plain copy"):
            result = bench.run(Context(cfg).spark, cfg, profile, days)
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    for table, t in result["tables"].items():
        console.print(f"{table}: bronze and rules {t['bronze_rows']:,} rows in {t['bronze_s']}s, "
                      f"copy {t['copy_rows']:,} in {t['copy_s']}s")
    console.print(f"bronze and rules {result['bronze_rows_per_s']:,} rows/s; plain copy {result['copy_rows_per_s']:,} rows/s; "
                  f"ratio {result['ratio_to_copy']}")
    console.print(f"written to {save('throughput', result)}")
    if as_json:
        emit_json(result)


@app.command("latency")
def latency(
    rate: Annotated[float, typer.Option(min=1, help="Events per second the simulator appends.")] = 1000.0,
    seconds: Annotated[float, typer.Option(min=10, help="Length of the live phase.")] = 120.0,
    warmup: Annotated[float, typer.Option(min=0, help="Seconds at the start of the live phase not timed.")] = 20.0,
    drain_cap: Annotated[float, typer.Option(min=0, help="Most seconds to wait after the live phase for every stage "
                                                        "to catch up.")] = 900.0,
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "medium",
    silver: Annotated[bool, typer.Option(help="Run silver curation too, as the monitor does.")] = True,
    detectors: Annotated[bool, typer.Option(help="Run the online detectors too, as the monitor does.")] = True,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the figures.")] = False,
) -> None:
    """Seconds from a row's commit to the source table to its alert row, and to a webhook: p50/p95/p99."""
    from lakesentinel.bench import latency as bench

    cfg, home = scratch_settings("lakesentinel-bench-latency-")
    opts = bench.LatencyOptions(rate=rate, seconds=seconds, warmup_s=warmup, drain_cap_s=drain_cap, profile=profile,
                                silver=silver, detectors=detectors)
    try:
        with console.status("starting") as status:
            result = bench.run(Context(cfg).spark, cfg, opts, on_phase=lambda phase: status.update(phase))
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    console.print(f"{result['events']:,} events in {result['live_seconds']}s = {result['events_per_s']:,} events/s "
                  f"({profile}; silver {'on' if silver else 'off'}, detectors {'on' if detectors else 'off'})")
    console.print(f"source commit -> alert row  ({result['alerts_timed']} alerts): p50 {result['p50_alert_s']}s, "
                  f"p95 {result['p95_alert_s']}s, p99 {result['p99_alert_s']}s")
    console.print(f"source commit -> webhook    ({result['notifications_timed']} incidents): "
                  f"p50 {result['p50_delivered_s']}s, p95 {result['p95_delivered_s']}s, p99 {result['p99_delivered_s']}s")
    console.print(f"plot: {bench.plot(result, RESULTS / 'latency.png')}")
    console.print(f"written to {save('latency', result)}")
    if as_json:
        emit_json({k: v for k, v in result.items() if k != "samples"})


@app.command("app")
def app_speed(
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "medium",
    days: Annotated[int, typer.Option(min=1, help="Days of the organisation (a month by default).")] = 30,
    rounds: Annotated[int, typer.Option(min=1, help="Calls of each read endpoint.")] = 30,
    home: Annotated[Optional[Path], typer.Option(help="Use this lakehouse as it is (LAKESENTINEL_HOME of one the "
                                                       "monitor and gold have run over) instead of building one.")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the figures.")] = False,
) -> None:
    """The Platform Health app: the overview's first render in chromium, and API p95, over a month of data."""
    from lakesentinel.bench import app as bench
    from lakesentinel.settings import settings_at

    if home is not None:
        cfg, scratch = settings_at(home), None
        built = {"home": str(home)}
    else:
        cfg, scratch = scratch_settings("lakesentinel-bench-app-")
    try:
        spark = Context(cfg).spark
        if scratch is not None:
            with console.status(f"simulating {profile} for {days} days, then the monitor and gold"):
                built = bench.seed(spark, cfg, profile, days) | {"profile": profile, "days": days}
        with console.status("serving the app: first render in chromium, then the API"):
            result = bench.measure(spark, cfg, rounds) | {"lakehouse": built}
    finally:
        if scratch is not None and not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    console.print(f"overview first render {result['overview_first_render_s']}s (target 1.5s); API p95 "
                  f"{result['api_p95_ms']}ms over {result['calls']} calls (target 300ms), p50 {result['api_p50_ms']}ms")
    for endpoint, ms in result["api_p95_ms_by_endpoint"].items():
        console.print(f"  {endpoint}: p95 {ms}ms, first call {result['api_first_call_ms'][endpoint]}ms")
    console.print(f"written to {save('app', result)}")


@app.command("rules")
def bench_rules(
    rates: Annotated[str, typer.Option(help="Comma-separated event rates (events/s) to measure.")] = "1000,10000",
    batches: Annotated[int, typer.Option(min=3, help="Micro-batches measured per rate and rule set.")] = 20,
    profile: Annotated[str, typer.Option(help="Simulated organisation feeding the batches.")] = "medium",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hot-path micro-batch time with the full rule packs loaded vs no rules, at each event rate."""
    import shutil

    from lakesentinel.bench import rules as bench

    cfg, home = scratch_settings("lakesentinel-bench-rules-")
    try:
        result = bench.run(Context(cfg).spark, cfg, [int(r) for r in rates.split(",")], batches, profile,
                           log=lambda text: console.print(text, highlight=False))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    table = Table("rate (events/s)", "rules", "p50 s", "p95 s", "max s", "evaluate p50 s", "alerts")
    for row in result["runs"]:
        table.add_row(f"{row['rate']:,}", row["rules"], f"{row['p50_s']:.3f}", f"{row['p95_s']:.3f}",
                      f"{row['max_s']:.3f}", f"{row['evaluate_p50_s']:.3f}", str(row["alerts"]))
    console.print(table)
    console.print(f"written to {save('rules', result)}")
    if as_json:
        emit_json(result)

@app.command("detectors")
def bench_detectors(
    points: Annotated[int, typer.Option(min=1000, help="Points per model.")] = 20000,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Points scored per second on one core for each model, bare and through the per-entity scorer."""
    from lakesentinel.bench import detectors as bench

    result = bench.run(points=points)
    table = Table("model", "configuration", "points/s (model)", "points/s (with scorer)", "state bytes",
                  "checkpoint ms", title=f"Detectors, {points:,} points each, one core")
    for r in result["models"]:
        table.add_row(r["model"], r["configuration"], f"{r['points_per_s_model']:,}",
                      f"{r['points_per_s_scorer']:,}" if r.get("points_per_s_scorer") else "-",
                      f"{r['state_bytes']:,}" if r.get("state_bytes") else "-",
                      f"{r['checkpoint_ms']:.2f}" if r.get("checkpoint_ms") is not None else "-")
    console.print(table)
    console.print(f"written to {save('detectors', result)}")
    if as_json:
        emit_json(result)

@app.command("incremental")
def bench_incremental(
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    days: Annotated[int, typer.Option(min=2, help="Days in the lakehouse before the extra data.")] = 10,
    extra: Annotated[float, typer.Option(min=0.001, max=0.5, help="Extra data as a share of the rows held.")] = 0.01,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the figures.")] = False,
) -> None:
    """Time of an incremental gold build after +1% data, as a fraction of a full rebuild of the same data."""
    from lakesentinel.bench import incremental as bench

    cfg, home = scratch_settings("lakesentinel-bench-incremental-")
    try:
        with console.status(f"simulating {profile} for {days} days, building silver and gold, then +{extra:.1%}"):
            result = bench.run(Context(cfg).spark, cfg, profile, days, extra)
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    console.print(f"{result['base_rows']:,} source rows, then +{result['extra_rows']:,} "
                  f"({result['extra_share']:.2%}) landing up to {result['extra_until']}")
    for task, dates in result["incremental_dates"].items():
        console.print(f"  {task}: rewrote {date_keys_text(dates)}")
    console.print(f"full build {result['full_s']}s; incremental {result['incremental_s']}s; full rebuild of the "
                  f"same data {result['rebuild_s']}s; incremental / full = {result['ratio']}")
    console.print(f"written to {save('incremental', result)}")
    if as_json:
        emit_json(result)

@app.command("alerting")
def bench_alerting(
    alerts: Annotated[int, typer.Option(min=1, help="Alerts to send, one new signal each.")] = 40,
    interval: Annotated[float, typer.Option(help="Seconds between alerts.")] = 1.0,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Latency from an alert row's commit to its notification at a receiver (p50/p95), stage by stage."""
    import shutil

    from lakesentinel.bench import alerting as bench

    cfg, home = scratch_settings("lakesentinel-bench-alerting-")
    try:
        result = bench.run(cfg, alerts, interval)
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    for key in ("sink_s", "outbox_s", "delivery_s", "end_to_end_s"):
        s = result[key]
        console.print(f"{key:14} p50 {s.get('p50', '-')}s  p95 {s.get('p95', '-')}s  max {s.get('max', '-')}s  (n={s['n']})")
    console.print(f"{result['delivered']}/{alerts} delivered; written to {save('alerting', result)}")
    if as_json:
        emit_json(result)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bench")
