"""``lakesentinel lifecycle run``: the alert lifecycle (plt_ops.alerts -> incidents and outbox)."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from lakesentinel.cli.common import console, context, emit_json

app = typer.Typer(help="The alert lifecycle: dedup, group, silence, inhibit, resolve; incidents and the outbox.",
                  no_args_is_help=True)


@app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="One step (with the fact MERGE), then stop.")] = False,
    trigger: Annotated[Optional[str], typer.Option(help="How often at least, e.g. '1 second' "
                                                        "(default: triggers.continuous).")] = None,
    duration: Annotated[Optional[float], typer.Option(help="Stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Run the lifecycle until Ctrl-C (or --duration); restartable at any point without loss or duplicates."""
    from lakesentinel.alerts.lifecycle import start_lifecycle
    from lakesentinel.logs import configure

    configure("INFO")
    handle = start_lifecycle(context().lifecycle(), "once" if once else trigger)
    began = time.monotonic()
    try:
        while handle.alive and (duration is None or time.monotonic() - began < duration):
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping after the current step")
    finally:
        handle.stop()
    reports = handle.reports
    summary = {"steps": handle.steps, "alerts": sum(r.alerts for r in reports),
               "notifications": sum(r.notifications for r in reports),
               "incidents_changed": sum(r.changed for r in reports),
               "quarantined": sum(r.quarantined for r in reports), "last_error": handle.last_error}
    console.print(f"lifecycle: {summary['steps']} step(s), {summary['alerts']} alert(s) read, "
                  f"{summary['notifications']} notification(s) to the outbox, {summary['quarantined']} quarantined")
    if as_json:
        emit_json(summary)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="lifecycle")
