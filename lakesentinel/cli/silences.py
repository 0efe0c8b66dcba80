"""``lakesentinel silences add|list|expire``: mute matching incidents for a while, with a reason."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lakesentinel.cli.common import console, context, emit_json

app = typer.Typer(help="Silences: matchers that mute incidents until they end; every change is kept in "
                       "plt_ops.silences.", no_args_is_help=True)


def _when(text: str, option: str) -> datetime:
    from lakesentinel.clock import naive_utc
    from lakesentinel.alerts.silences import SilenceError

    try:
        return naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise SilenceError(f"{option} {text!r}: not a date and time (e.g. 2026-03-02T18:00 or 2026-03-02T18:00Z)") from None


def _row(s, now) -> dict:
    return {"silence_id": s.silence_id, "state": s.state(now), "matchers": list(s.matchers), "starts_at": s.starts_at,
            "ends_at": s.ends_at, "created_by": s.created_by, "comment": s.comment, "source": s.source,
            "expired_at": s.expired_at, "expired_by": s.expired_by}


@app.command("add")
def add(
    matchers: Annotated[list[str], typer.Argument(help="Label matchers, e.g. rule_id=cost.idle 'workspace_id=~12.*'.")],
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why (required: it is the audit trail).")],
    duration: Annotated[Optional[str], typer.Option("--for", help="How long, e.g. 2h or 1d (default 2h).")] = None,
    until: Annotated[Optional[str], typer.Option(help="End time (UTC unless an offset is given), instead of --for.")] = None,
    starts: Annotated[Optional[str], typer.Option(help="Start time (default: now).")] = None,
    by: Annotated[Optional[str], typer.Option(help="Author (default: $LAKESENTINEL_USER or the OS user).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the silence as one JSON line on stdout.")] = False,
) -> None:
    """Create a silence."""
    from datetime import timedelta

    from lakesentinel.alerts import silences
    from lakesentinel.clock import utcnow
    from lakesentinel.alerts.commands import operator
    from lakesentinel.durations import parse_duration
    from lakesentinel.alerts.matchers import MatcherError

    if duration and until:
        raise silences.SilenceError("give --for or --until, not both")
    now = utcnow()
    start = _when(starts, "--starts") if starts else now
    try:
        end = _when(until, "--until") if until else start + timedelta(microseconds=parse_duration(duration or "2h"))
        silence = silences.Silence.create(matchers, start, end, by or operator(), comment, now=now)
    except (MatcherError, ValueError) as exc:
        raise silences.SilenceError(str(exc)) from None
    silences.add(context().ops_tables, silence)
    console.print(f"silence [bold]{silence.silence_id}[/] mutes " + escape(f"{{{', '.join(silence.matchers)}}} ")
                  + f"from {silence.starts_at:%Y-%m-%d %H:%M} to {silence.ends_at:%Y-%m-%d %H:%M} UTC")
    if as_json:
        emit_json(_row(silence, now))


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include ended silences.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per silence on stdout.")] = False,
) -> None:
    """Active and pending silences (with --all, every one ever made)."""
    from lakesentinel.alerts import silences
    from lakesentinel.clock import utcnow

    now = utcnow()
    rows = sorted(silences.current(context().ops_tables).values(), key=lambda s: s.ends_at)
    rows = [s for s in rows if all_ or s.state(now) != "expired"]
    if as_json:
        for s in rows:
            emit_json(_row(s, now))
        return
    table = Table("id", "state", "matchers", "ends (UTC)", "by", "comment", title=f"{len(rows)} silence(s)")
    for s in rows:
        # Matchers hold regexes ("[a-z]+") and comments are free text: both are text, not rich markup.
        table.add_row(s.silence_id, s.state(now), escape(", ".join(s.matchers)), f"{s.ends_at:%Y-%m-%d %H:%M}",
                      escape(s.created_by), escape(s.comment))
    console.print(table)


@app.command("expire")
def expire(
    silence_id: Annotated[str, typer.Argument(help="The silence's id (or a unique prefix).")],
    by: Annotated[Optional[str], typer.Option(help="Who ends it (default: $LAKESENTINEL_USER or the OS user).")] = None,
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why.")] = "",
) -> None:
    """End a silence now."""
    from lakesentinel.alerts import silences
    from lakesentinel.clock import utcnow
    from lakesentinel.alerts.commands import operator

    s = silences.expire(context().ops_tables, silence_id, by or operator(), utcnow(), comment)
    console.print(escape(f"silence {s.silence_id} ended by {s.expired_by}"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="silences")
