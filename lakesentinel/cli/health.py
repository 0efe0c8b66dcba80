"""``lakesentinel health``: per stream, last batch, lag, failures and data quality; non-zero when unhealthy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakesentinel.cli.common import console, emit_json, settings, spark


def health(
    max_silence: Annotated[float, typer.Option(help="Seconds without news before a stream counts as stale.")] = 120.0,
    max_lag: Annotated[float, typer.Option(help="Seconds the oldest unread source commit may wait.")] = 900.0,
    max_drain_age: Annotated[float, typer.Option(help="Seconds since the last scheduled run that drained a stream "
                                                      "(a daily refresh plus slack).")] = 26 * 3600.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Report the monitor's health; exit code 1 when any stream is stale, stopped, failed or lagging."""
    from lakesentinel.health import check

    results, quality = check(spark(), settings(), max_silence_s=max_silence, max_lag_s=max_lag, max_drain_age_s=max_drain_age)
    table = Table("stream", "kind", "status", "last batch", "rows 1h", "failures 1h", "lag (versions)", "lag (s)", "detail")
    for h in results:
        style = "green" if h.healthy else "red"
        table.add_row(h.stream, h.kind, f"[{style}]{h.status}[/]", str(h.last_batch_at or "-")[:19],
                      str(h.input_rows_1h), str(h.failures_1h), "-" if h.lag_versions is None else str(h.lag_versions),
                      "-" if h.lag_seconds is None else f"{h.lag_seconds:.0f}", h.detail[:60])
    console.print(table)
    if quality:
        dq = Table("table", "data quality", "score", "quarantined", "at")
        for q in quality:
            dq.add_row(q.table, q.status, f"{q.score:.3f}", str(q.rows_quarantined), str(q.run_at)[:19])
        console.print(dq)
    unhealthy = [h.stream for h in results if not h.healthy]
    console.print(f"[bold]{'unhealthy: ' + ', '.join(unhealthy) if unhealthy else 'healthy'}[/]")
    if as_json:
        emit_json({"healthy": not unhealthy, "streams": [h.as_dict() for h in results],
                   "data_quality": [q.__dict__ | {"run_at": str(q.run_at)} for q in quality]})
    raise typer.Exit(1 if unhealthy else 0)


def register(app: typer.Typer) -> None:
    app.command("health")(health)
