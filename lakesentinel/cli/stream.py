"""``lakesentinel stream ...``: run the pipeline's layers, continuously or as a scheduled run."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Optional

import typer

from lakesentinel.cli.common import console, context, emit_json, settings

app = typer.Typer(help="Run the pipeline: continuously (the monitor) or once, draining what is there "
                       "(--scheduled, availableNow).", no_args_is_help=True)


def _tables(value: Optional[str]) -> list[str] | None:
    """System table names (``access.audit``; a ``system.`` prefix is accepted); a bad one is a usage error."""
    from lakesentinel.sources.system_tables import SYSTEM_TABLES

    if value is None:
        return None
    names = [t.strip().removeprefix("system.") for t in value.split(",") if t.strip()]
    unknown = [n for n in names if n not in SYSTEM_TABLES]
    if unknown or not names:
        raise typer.BadParameter(f"unknown system table(s): {', '.join(unknown) or '(none given)'}; "
                                 f"known: {', '.join(SYSTEM_TABLES)}", param_hint="--tables")
    return names


def _check_tables(value: Optional[str]) -> Optional[str]:
    _tables(value)  # while the arguments are parsed: a usage error before anything starts
    return value


def _stop_event(duration: Optional[float]) -> threading.Event:
    """Set on SIGTERM or Ctrl-C, or after ``duration`` seconds: the run then stops cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if duration:
        threading.Timer(duration, stop.set).start()
    return stop


def _run(supervisor, scheduled: bool, duration: Optional[float], as_json: bool) -> None:
    if scheduled:
        results = supervisor.run_once()
        summary = {name: _brief(result) for name, result in results.items()}
        for name, value in summary.items():
            console.print(f"{name}: {value}")
        if as_json:
            emit_json(summary)
        return
    stop = _stop_event(duration)
    console.print(f"running {len(supervisor.streams)} stream(s) and {len(supervisor.tasks)} task(s); "
                  "SIGTERM or Ctrl-C stops cleanly")
    supervisor.run(stop)


def _brief(result) -> object:
    if isinstance(result, dict) and "numInputRows" in result:
        return {"batch": result.get("batchId"), "input_rows": result.get("numInputRows")}
    if hasattr(result, "__dict__"):
        return {k: v for k, v in result.__dict__.items() if not k.startswith("_")}
    return json.loads(json.dumps(result, default=str)) if result is not None else None


@app.command("bronze")
def bronze(
    tables: Annotated[Optional[str], typer.Option(help="Comma-separated system tables (default: all).", callback=_check_tables)] = None,
    scheduled: Annotated[bool, typer.Option("--scheduled", help="Drain what is there and stop (availableNow).")] = False,
    duration: Annotated[Optional[float], typer.Option(help="Continuous mode: stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Copy the source system tables into plt_bronze."""
    _run(context().bronze(scheduled=scheduled, tables=_tables(tables)), scheduled, duration, as_json)


@app.command("silver")
def silver(
    scheduled: Annotated[bool, typer.Option("--scheduled", help="Run every silver task once and stop.")] = False,
    duration: Annotated[Optional[float], typer.Option(help="Continuous mode: stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Curate bronze into plt_silver: SCD2 dimensions, events, priced usage, data-quality results."""
    from lakesentinel.streams.supervisor import Supervisor

    _run(context().silver(Supervisor()), scheduled, duration, as_json)


@app.command("all")
def all_streams(
    scheduled: Annotated[bool, typer.Option("--scheduled", help="Drain what is there through every stage and stop.")] = False,
    duration: Annotated[Optional[float], typer.Option(help="Continuous mode: stop after this many seconds.")] = None,
    tables: Annotated[Optional[str], typer.Option(help="Comma-separated system tables (default: all).", callback=_check_tables)] = None,
    no_detectors: Annotated[bool, typer.Option("--no-detectors", help="Leave the detector streams out.")] = False,
    no_actions: Annotated[bool, typer.Option("--no-actions", help="Leave the action worker out.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The running monitor: bronze, silver, rules, detectors, incident lifecycle and action worker.

    Continuous by default; SIGTERM (or Ctrl-C) stops it cleanly and a restart resumes from the
    checkpoints. --scheduled drains what has landed through every stage once (availableNow).
    """
    from lakesentinel.logs import configure
    from lakesentinel.monitor import MonitorOptions

    from lakesentinel.streams.lease import StreamsLease

    configure()
    cfg = settings()
    lease = StreamsLease(cfg, "scheduled" if scheduled else "continuous")
    holder = lease.try_acquire()
    if scheduled and holder is not None:
        # The same checkpoints must never run twice at once; the other run keeps the streams current.
        console.print(f"{holder.describe()} holds the streams; this scheduled run leaves them to it")
        if as_json:
            emit_json({"skipped": True, "holder": holder.describe()})
        return
    stop = None if scheduled else _stop_event(duration)
    while holder is not None:
        console.print(f"waiting for {holder.describe()} to finish with the streams")
        if stop.wait(min(30.0, lease.ttl_s / 3)):
            return
        holder = lease.try_acquire()
    lease.keep()
    try:
        # The running monitor builds gold on its interval; a scheduled job builds it as its own task.
        monitor = context().monitor(MonitorOptions(scheduled=scheduled, tables=_tables(tables), gold=not scheduled,
                                                   detectors=not no_detectors, worker=not no_actions))
        if scheduled:
            results = monitor.run_once()
            summary = {name: _brief(result) for name, result in results.items()}
            console.print(f"scheduled run done: {len(summary)} stream(s) and task(s)")
            if as_json:
                emit_json(summary)
            return
        console.print("monitor running; SIGTERM or Ctrl-C stops it cleanly")
        monitor.run(stop)
    finally:
        lease.release()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="stream")
