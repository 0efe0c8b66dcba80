"""``lakesentinel actions ...``: the delivery worker, dead letters and retries."""

from __future__ import annotations

import threading
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lakesentinel.cli.common import console, context, emit_json
from lakesentinel.errors import LakeSentinelError

app = typer.Typer(help="Delivery of notifications: the worker, the dead-letter table, retries.", no_args_is_help=True)


@app.command("worker")
def worker(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop once the outbox is delivered.")] = False,
    timeout: Annotated[Optional[float], typer.Option(help="Stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Deliver from plt_ops.action_outbox to Slack, Jira, SQL alerts and webhooks until Ctrl-C."""
    import os

    from lakesentinel.logs import configure

    configure(os.environ.get("LAKESENTINEL_LOG_LEVEL", "INFO"))
    stop = threading.Event()
    try:
        stats = context().worker(stop).run(until_idle=until_idle, timeout=timeout)
    except KeyboardInterrupt:
        stop.set()
        raise typer.Exit(0) from None
    console.print(f"delivered {stats.delivered}, dead-lettered {stats.dead_lettered}, "
                  f"found delivered after a crash {stats.recovered}"
                  + (f", held for unavailable integrations {stats.held}" if stats.held else ""))
    if as_json:
        emit_json({"delivered": stats.delivered, "dead_lettered": stats.dead_lettered,
                   "failed_attempts": stats.failed_attempts, "recovered": stats.recovered, "held": stats.held})


@app.command("dead-letters")
def dead_letters_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per dead letter on stdout.")] = False,
) -> None:
    """Notifications the worker gave up on, with their last error."""
    from lakesentinel.actions.dead_letter import dead_letters
    from lakesentinel.notify.outbox import notification_of

    rows = dead_letters(context().ops_tables)
    if as_json:
        for r in rows:
            emit_json({k: v for k, v in r.items() if k != "payload"} | {"title": notification_of(r).title})
        return
    table = Table("key", "integration", "dead since", "attempts", "title", "last error",
                  title=f"{len(rows)} dead letter(s)")
    for r in rows:
        table.add_row(r["idempotency_key"][:12], r["integration"], f"{r['dead_lettered_at']:%Y-%m-%d %H:%M:%S}",
                      str(r["attempts"]), escape(notification_of(r).title), escape((r["last_error"] or "")[:80]))
    console.print(table)


@app.command("retry")
def retry(
    key: Annotated[Optional[list[str]], typer.Option("--key", help="Idempotency key (or unique prefix); repeatable. "
                                                                    "Default: every dead letter.")] = None,
    integration: Annotated[Optional[str], typer.Option(help="Only dead letters of this integration, e.g. secops/jira.")] = None,
    by: Annotated[Optional[str], typer.Option(help="Who asks (default: $LAKESENTINEL_USER or the OS user).")] = None,
    deliver: Annotated[bool, typer.Option("--deliver/--no-deliver", help="Deliver now in this process; without it a "
                                                                        "running worker picks them up.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Give dead letters another round of attempts."""
    from lakesentinel.actions.dead_letter import dead_letters, requeue
    from lakesentinel.alerts.commands import operator

    ctx = context()
    keys = None
    if key:
        known = [d["idempotency_key"] for d in dead_letters(ctx.ops_tables)]
        keys = []
        for k in key:
            hits = [x for x in known if x.startswith(k)]
            if len(hits) != 1:
                raise LakeSentinelError(f"--key {k}: {'no dead letter has' if not hits else f'{len(hits)} dead letters have'} "
                                        "that key (see lakesentinel actions dead-letters)")
            keys += hits
    chosen = requeue(ctx.ops_tables, by=by or operator(), keys=keys, integration=integration)
    console.print(f"requeued {len(chosen)} dead letter(s)")
    stats = None
    if deliver and chosen:
        stats = ctx.worker().run(until_idle=True)
        console.print(f"delivered {stats.delivered}, dead-lettered again {stats.dead_lettered}")
    if as_json:
        emit_json({"requeued": [c["idempotency_key"] for c in chosen],
                   "delivered": stats.delivered if stats else 0, "dead_lettered": stats.dead_lettered if stats else 0})


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="actions")
