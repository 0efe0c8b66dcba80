"""``lakesentinel simulate``: write a simulated organisation's system tables."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lakesentinel.cli.common import console, context, emit_json, settings
from lakesentinel.errors import LakeSentinelError


def parse_scenarios(value: str) -> list[str] | None:
    if value == "all":
        return None
    if value == "none":
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def source_roots(cfg) -> list[Path]:
    from lakesentinel.lakehouse import Lakehouse

    lh = Lakehouse(cfg)
    from lakesentinel.simulator.run import conditions_table

    names = [lh.source(t) for t in cfg.sources] + [cfg.simulator.ground_truth_table, conditions_table(cfg)]
    return [Path(lh.location(n)) for n in names]


def simulate(
    profile: Annotated[str, typer.Option(help="Organisation size: small, medium or large.")] = "small",
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 7,
    seed: Annotated[int, typer.Option(help="Same seed (and start), same data.")] = 42,
    start: Annotated[Optional[str], typer.Option(help="First day, YYYY-MM-DD (default: DAYS before today, UTC).")] = None,
    scenarios: Annotated[str, typer.Option(help="'all', 'none', or a comma-separated list of scenario types.")] = "all",
    per_type: Annotated[int, typer.Option(min=1, help="Instances of each scenario type.")] = 1,
    warmup_days: Annotated[Optional[int], typer.Option(help="Scenario-free days at the start (default: a third, at most 7).")] = None,
    live: Annotated[bool, typer.Option(help="Append small commits as wall time passes instead of writing all at once.")] = False,
    rate: Annotated[float, typer.Option(help="Live mode: events per second.")] = 1000.0,
    interval: Annotated[float, typer.Option(help="Live mode: seconds between commits.")] = 1.0,
    duration: Annotated[Optional[float], typer.Option(help="Live mode: stop after this many wall seconds.")] = None,
    reset: Annotated[bool, typer.Option(help="Delete existing local source tables first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Write the system tables of a simulated organisation, with injected incidents and their ground truth."""
    from lakesentinel.simulator.clock import to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.run import run_batch, run_live

    cfg = settings()
    context().require_local("the simulator")
    roots = source_roots(cfg)
    existing = [p for p in roots if (p / "_delta_log").is_dir()]
    if existing and not reset:
        raise LakeSentinelError(
            f"source tables already hold data under {cfg.storage_root} ({len(existing)} tables); pass --reset to "
            "replace them, or point LAKESENTINEL_HOME at another directory")
    for p in existing:
        shutil.rmtree(p)
    first = date.fromisoformat(start) if start else (datetime.now(timezone.utc).date() - timedelta(days=days))
    sim = Simulator(profile, seed, to_us(first), days, scenarios=parse_scenarios(scenarios), per_type=per_type,
                    warmup_days=warmup_days)
    console.print(f"[bold]Simulating[/] {profile} organisation, {days} day(s) from {first}, seed {seed}, "
                  f"{len(sim.truths)} injected scenario(s) -> {cfg.storage_root}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        if live:
            task = progress.add_task(f"live at {rate:g} events/s", total=None)
            summary = run_live(cfg, sim, rate=rate, interval_s=interval, duration_s=duration,
                               on_tick=lambda tick, n, now: progress.update(task, advance=n))
        else:
            task = progress.add_task("days", total=days)
            summary = run_batch(cfg, sim, on_day=lambda d, total: progress.advance(task))
    table = Table("table", "rows", "checksum", title=f"{summary.total_rows:,} rows in {summary.seconds:.1f}s "
                  f"({summary.total_rows / max(summary.seconds, 1e-9):,.0f} rows/s), {summary.commits} commits")
    for name, n in summary.rows.items():
        table.add_row(name, f"{n:,}", summary.checksums.get(name, ""))
    console.print(table)
    if as_json:
        emit_json({"profile": profile, "seed": seed, "days": days, "start": summary.start, "end": summary.end,
                   "live": live, "total_rows": summary.total_rows, "rows": summary.rows,
                   "checksums": summary.checksums, "scenarios": summary.scenarios, "commits": summary.commits,
                   "seconds": round(summary.seconds, 3)})


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
