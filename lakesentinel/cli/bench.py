"""``lakesentinel bench ...``: benchmarks under bench/, figures printed and written as JSON."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakesentinel.cli.common import console, emit_json

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
    import os

    from lakesentinel.settings import load_settings

    home = tempfile.mkdtemp(prefix=prefix)
    os.environ["LAKESENTINEL_HOME"] = home
    return load_settings(), home


@app.command("simulator")
def simulator(
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "large",
    days: Annotated[int, typer.Option(min=1)] = 30,
    keep: Annotated[bool, typer.Option(help="Keep the scratch lakehouse.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rows per second and peak memory of the simulator writing a whole horizon."""
    from bench import simulator as bench

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
    from bench import throughput as bench
    from lakesentinel.session import get_spark

    cfg, home = scratch_settings("lakesentinel-bench-throughput-")
    try:
        with console.status(f"simulating {profile} for {days} day(s), then bronze and a plain copy"):
            result = bench.run(get_spark(cfg), cfg, profile, days)
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
    from bench import latency as bench
    from lakesentinel.session import get_spark

    cfg, home = scratch_settings("lakesentinel-bench-latency-")
    opts = bench.LatencyOptions(rate=rate, seconds=seconds, warmup_s=warmup, drain_cap_s=drain_cap, profile=profile,
                                silver=silver, detectors=detectors)
    try:
        with console.status("starting") as status:
            result = bench.run(get_spark(cfg), cfg, opts, on_phase=lambda phase: status.update(phase))
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
    from bench import app as bench
    from lakesentinel.session import get_spark
    from lakesentinel.settings import settings_at

    if home is not None:
        cfg, scratch = settings_at(home), None
        built = {"home": str(home)}
    else:
        cfg, scratch = scratch_settings("lakesentinel-bench-app-")
    try:
        spark = get_spark(cfg)
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
    if as_json:
        emit_json(result)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bench")
