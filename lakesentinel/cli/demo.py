"""``lakesentinel demo``: the whole monitor on a simulated organisation, on this machine."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakesentinel.cli.common import console, emit_json, settings, spark


def _fmt(p: dict) -> str:
    return "-" if not p.get("n") else f"p50 {p['p50']:.2f}s  p95 {p['p95']:.2f}s  p99 {p['p99']:.2f}s  (n={p['n']})"


def demo(
    profile: Annotated[str, typer.Option(help="Organisation size: small, medium or large.")] = "small",
    history_days: Annotated[int, typer.Option(min=1, help="Days written at once first (the detectors' baseline).")] = 7,
    live_days: Annotated[int, typer.Option(min=1, help="Simulated days streamed live, with every scenario type.")] = 1,
    rate: Annotated[float, typer.Option(help="Live events per second (sets how long the demo runs).")] = 60.0,
    drain_cap: Annotated[float, typer.Option(help="Most seconds to wait, after the last event, for every stage to "
                                                  "catch up; reaching it names the stages behind and exits 1.")] = 1800.0,
    seed: Annotated[int, typer.Option()] = 42,
    no_detectors: Annotated[bool, typer.Option("--no-detectors", help="Rules only (faster on a small machine).")] = False,
    app_port: Annotated[int, typer.Option(min=0, max=65535, help="Port of the Platform Health app on 127.0.0.1 "
                                                                "(0: any free one).")] = 8765,
    no_app: Annotated[bool, typer.Option("--no-app", help="Do not serve the Platform Health app.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON report on stdout.")] = False,
) -> None:
    """Simulate an organisation live and run the whole monitor on it; report what it found.

    The simulator writes the system tables (history first, then live with injected incidents); every
    stream runs (bronze, silver, rules, detectors, incident lifecycle, action worker posting to the
    console and a local signed webhook); a live view shows incidents as they open and resolve. At the
    end: scenarios found against injected (recall), false incidents per simulated day, and latency
    from a row's commit to its alert row and to the webhook. The run ends when every stage has covered
    the last commit (not after a fixed time); if that takes longer than --drain-cap it exits 1.
    """
    from lakesentinel.demo.run import DemoOptions, run_demo

    cfg = settings()
    result = run_demo(spark(), cfg, DemoOptions(profile=profile, history_days=history_days, live_days=live_days,
                                                rate=rate, seed=seed, drain_cap_s=drain_cap,
                                                detectors=not no_detectors,
                                                app_port=None if no_app else app_port), console)
    table = Table("scenario type", "found / injected", title=f"found {result['scenarios_found']} of "
                  f"{result['scenarios_injected']} injected scenarios (recall {result['recall']:.0%})")
    for kind, counts in result["by_type"].items():
        table.add_row(kind, f"{counts['found']} / {counts['injected']}")
    console.print(table)
    console.print(f"incidents: {result['incidents']} ({result['true_incidents']} on injected scenarios, "
                  f"{result['condition_incidents']} on standing conditions, {result['false_incidents']} false = "
                  f"{result['false_incidents_per_day']} per simulated day)")
    console.print(f"source commit -> alert row:  {_fmt(result['latency_alert_s'])}")
    console.print(f"source commit -> webhook:    {_fmt(result['latency_delivered_s'])}")
    phases = result["phase_seconds"]
    console.print(f"{result['events']:,} live events; {result['wall_seconds']}s: history {phases['history']}s, "
                  f"live {phases['live']}s, drain {phases['drain']}s; "
                  f"{result['webhook_notifications']} signed webhook notifications")
    grew = result["backlog_grew"]
    peaks = sorted(((v["peak"], k) for k, v in result["backlog"].items() if v["peak"]), reverse=True)[:5]
    console.print("backlog peaks: " + (", ".join(f"{k} {n}" for n, k in peaks) or "none"))
    if grew:
        console.print(f"backlog grew through the live phase (the machine did not keep up with {result['rate']:g} "
                      "events/s) in:")
        for stage in grew:
            b = result["backlog"][stage]
            console.print(f"  {stage}: {b['live_start']} -> {b['live_end']} behind, rising from "
                          f"{b['grew_since_s']}s into the run (peak {b['peak']} at {b['peak_at_s']}s)")
    else:
        console.print("no stage's backlog grew through the live phase")
    if not result["caught_up"]:
        console.print(f"[red]not every stage caught up within {drain_cap:g}s of the last event:[/red]")
        for line in result["behind"]:
            console.print(f"  {line}")
    if as_json:
        emit_json(result)
    if not result["caught_up"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
