"""``lakesentinel incidents list|show|ack|resolve``: the on-call engineer's view of incidents.

Reads go straight to the lakehouse (delta-rs locally: no Spark start, answers in well under a second);
ack and resolve record a request that the running lifecycle applies, and wait a little for its answer.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lakesentinel.cli.common import console, context, emit_json, settings, spark

app = typer.Typer(help="Incidents: list, show, acknowledge, resolve.", no_args_is_help=True)

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_STATUS_STYLE = {"open": "bold", "acknowledged": "green", "silenced": "dim", "resolved": "dim green"}

IdArg = Annotated[str, typer.Argument(help="Incident id, or its first characters.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON line on stdout.")]


def _tables():
    return context().ops_tables


def _now() -> datetime:
    from lakesentinel.clock import utcnow

    return utcnow()


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    from lakesentinel.durations import parse_duration
    from lakesentinel.errors import LakeSentinelError

    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        pass
    try:
        from datetime import timedelta

        return _now() - timedelta(microseconds=parse_duration(value))
    except ValueError:
        raise LakeSentinelError(f"--since {value!r}: give a duration (24h, 7d) or a date (2026-03-02)") from None


def _age(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return "-"
    from lakesentinel.durations import format_duration

    seconds = int((now - ts).total_seconds())
    if seconds < 60:
        return "just now"
    # Two units are enough to place an incident in time: "2d3h ago", "5m ago".
    text = format_duration((seconds - seconds % 60) * 1_000_000)
    units = [u for u in ("d", "h", "m") if u in text]
    cut = text.index(units[1]) + 1 if len(units) > 1 else len(text)
    return text[:cut] + " ago"


def _shown(value) -> str:
    from decimal import Decimal

    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _actor(by: str | None) -> str:
    return by or os.environ.get("LAKESENTINEL_USER") or getpass.getuser()


@app.command("list")
def list_incidents(
    status: Annotated[Optional[list[str]], typer.Option("--status", "-s", help="open, acknowledged, silenced, resolved (repeatable). Default: the active ones.")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", "-a", help="Every status, resolved included.")] = False,
    severity: Annotated[Optional[str], typer.Option(help="Minimum severity: info, low, medium, high, critical.")] = None,
    domain: Annotated[Optional[str], typer.Option(help="cost, security, query, reliability, platform.")] = None,
    workspace: Annotated[Optional[str], typer.Option(help="Workspace id.")] = None,
    rule: Annotated[Optional[str], typer.Option(help="Rule or detector id.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Opened within this long (24h, 7d) or since a date.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: all).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Incidents, most severe and most recently active first."""
    from lakesentinel.alerts.incident_queries import STATUSES, IncidentFilter, load_incidents

    chosen = STATUSES if all_statuses else tuple(status) if status else IncidentFilter.statuses
    flt = IncidentFilter(chosen, severity, domain, workspace, rule, _since(since), limit or None)
    rows = flt.apply(load_incidents(_tables()))
    now = _now()
    wide = console.width >= 110
    headers = ["id", "severity / status", "incident", "alerts", "last alert"] + (["opened"] if wide else [])
    table = Table(*headers, title=f"{len(rows)} incident(s): {', '.join(chosen)}", title_justify="left")
    table.columns[0].no_wrap = table.columns[1].no_wrap = True
    for r in rows:
        where = " · ".join(v for v in (r["domain"], r["entity_id"], f"ws {r['workspace_id']}" if r["workspace_id"] else None) if v)
        cells = [r["incident_id"][:10],
                 f"[{_SEVERITY_STYLE.get(r['severity'], '')}]{r['severity']}[/]\n"
                 f"[{_STATUS_STYLE.get(r['status'], '')}]{r['status']}[/]",
                 f"{escape(r['title'])}\n[dim]{escape(where)}[/]", str(r["alert_count"]), _age(r["last_alert_at"], now)]
        table.add_row(*cells, *([_age(r["opened_at"], now)] if wide else []))
    console.print(table)
    if as_json:
        emit_json({"count": len(rows), "incidents": rows})


@app.command("show")
def show(incident: IdArg, as_json: JsonOpt = False) -> None:
    """Everything about one incident: facts, people, external references, commands and deliveries."""
    from lakesentinel.alerts.incident_queries import find_incident, history, load_incidents

    tables = _tables()
    row = find_incident(load_incidents(tables), incident)
    past = history(tables, row["incident_id"])
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for key in ("incident_id", "status", "muted_by", "severity", "domain", "rule_id", "kind", "title", "summary",
                "workspace_id", "entity_type", "entity_id", "first_seen", "last_seen", "opened_at", "last_alert_at",
                "alert_count", "last_observed", "last_expected", "cost_impact", "first_notified_at",
                "acknowledged_by", "acknowledged_at", "time_to_acknowledge_s", "resolved_by", "resolved_at",
                "resolution", "time_to_resolve_s", "runbook_url", "fingerprint"):
        if row.get(key) not in (None, ""):
            facts.add_row(key, escape(_shown(row[key])))
    for key, value in sorted((row.get("external_refs") or {}).items()):
        facts.add_row(escape(key), escape(value))
    console.print(facts)
    if past.commands:
        console.print("[bold]commands[/]")
        final: dict[str, dict] = {}
        for c in past.commands:  # a request, then the lifecycle's outcome under the same id
            final[c["command_id"]] = c if c["outcome"] or c["command_id"] not in final else final[c["command_id"]]
        for c in final.values():
            console.print(escape(f"  {c['requested_at']:%Y-%m-%d %H:%M:%S} {c['action']} by {c['requested_by']}"
                                 f"{': ' + c['note'] if c['note'] else ''} -> {c['outcome'] or 'waiting for the lifecycle'}"),
                          highlight=False)
    if past.deliveries:
        console.print("[bold]deliveries[/]")
        for d in past.deliveries:
            console.print(escape(f"  {d['at']:%Y-%m-%d %H:%M:%S} {d['integration']} {d['event']}"
                                 f"{' (' + d['error'] + ')' if d['error'] else ''}"), highlight=False)
    if as_json:
        emit_json({"incident": row, "commands": past.commands, "deliveries": past.deliveries})


def _command(action: str, incident: str, by: str | None, note: str, wait: float, as_json: bool) -> None:
    from lakesentinel.alerts.incident_queries import find_incident, load_incidents, request, wait_for_outcome

    tables = _tables()
    row = find_incident(load_incidents(tables), incident)
    cmd = request(tables, action, row, _actor(by), note, _now())
    verb = "acknowledge" if action == "ack" else "resolve"
    outcome = wait_for_outcome(tables, cmd.command_id, wait) if wait > 0 else None
    if outcome is None:
        console.print(escape(f"Recorded: {verb} {row['incident_id']} ({row['title']}) by {cmd.by}. The lifecycle "
                             f"applies it on its next step (`lakesentinel lifecycle run --once` if none is running)."),
                      highlight=False)
    elif outcome == "applied":
        console.print(f"[green]{verb.capitalize()}d[/] " + escape(f"{row['incident_id']} ({row['title']}) as {cmd.by}."),
                      highlight=False)
    else:
        console.print(f"[yellow]{escape(outcome)}[/] ({row['incident_id']})", highlight=False)
    if as_json:
        emit_json({"command_id": cmd.command_id, "action": action, "incident_id": row["incident_id"], "by": cmd.by,
                   "outcome": outcome})


@app.command("ack")
def ack(
    incident: IdArg,
    by: Annotated[Optional[str], typer.Option(help="Who acknowledges (default: $LAKESENTINEL_USER or your user).")] = None,
    note: Annotated[str, typer.Option(help="Why, or what you are doing about it.")] = "",
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the lifecycle to apply it (0: do not wait).")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Acknowledge an incident: you have it. Repeat notifications stop; updates still come."""
    _command("ack", incident, by, note, wait, as_json)


@app.command("resolve")
def resolve(
    incident: IdArg,
    by: Annotated[Optional[str], typer.Option(help="Who resolves (default: $LAKESENTINEL_USER or your user).")] = None,
    note: Annotated[str, typer.Option(help="The resolution, for the review.")] = "",
    false_positive: Annotated[bool, typer.Option("--false-positive", help="Nothing was wrong: counted as a false positive by `incidents review`.")] = False,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the lifecycle to apply it (0: do not wait).")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Resolve an incident by hand; a later alert of the same signal opens a new one."""
    if false_positive:
        note = "false positive" + (f": {note}" if note else "")
    _command("resolve", incident, by, note, wait, as_json)


def _day(option: str, value: str | None):
    from datetime import date

    from lakesentinel.errors import LakeSentinelError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LakeSentinelError(f"{option} {value!r}: give a date as YYYY-MM-DD") from None


def _seconds(value) -> str:
    if value is None:
        return "-"
    from lakesentinel.durations import format_duration

    return format_duration(int(value) * 1_000_000) if value >= 1 else f"{value:.1f}s"


def _share(value) -> str:
    return "-" if value is None else f"{value:.0%}"


@app.command("review")
def review(
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD) of incidents to review, by when their first alert window started.")],
    until: Annotated[Optional[str], typer.Option(help="Last day (YYYY-MM-DD), inclusive. Default: up to the newest.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Rows of the noisiest sources and costliest incidents to show.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """How incidents went: MTTA and MTTR by domain, severity and ISO week, the noisiest rules and
    detectors, the false-positive share, and each incident's cost from the cost, job-run and query facts."""
    from lakesentinel.reviews.incident_review import run_review

    with console.status("reviewing incidents"):
        result = run_review(spark(), settings(), _day("--since", since), _day("--until", until))
    period = f"{result.since}" + (f" to {result.until}" if result.until else " onwards")
    table = Table("by", "", "incidents", "acked", "resolved", "MTTA", "MTTR", "MTTR manual", "false pos.",
                  title=f"response, incidents first seen {period}", title_justify="left")
    for r in result.response:
        table.add_row(r["breakdown"], escape(str(r["value"])), str(r["incidents"]), str(r["acknowledged"]),
                      str(r["resolved"]), _seconds(r["mtta_s"]), _seconds(r["mttr_s"]), _seconds(r["mttr_manual_s"]),
                      f"{r['false_positives']} ({_share(r['false_positive_share'])})")
    console.print(table)
    table = Table("rank", "rule / detector", "kind", "domain", "incidents", "alerts", "alerts/incident", "share",
                  "false pos.", title="noisiest sources", title_justify="left")
    for r in result.noise[:top]:
        table.add_row(str(r["noise_rank"]), escape(r["source_id"]), r["kind"], r["domain"], str(r["incidents"]),
                      str(r["alerts"]), f"{r['alerts_per_incident']:.1f}", _share(r["alert_share"]), str(r["false_positives"]))
    console.print(table)
    table = Table("incident", "rule", "entity", "window h", "cost", "usual", "excess", "failed runs (cost)",
                  "queries", "impact", title="cost impact from the facts", title_justify="left")
    for r in result.impact[:top]:
        table.add_row(r["incident_id"][:10], escape(r["rule_id"]), escape(f"{r['entity_type'] or '-'} {r['entity_id'] or ''}"),
                      str(r["window_hours"]), _shown(r["window_cost"]), _shown(r["baseline_cost"]), _shown(r["excess_cost"]),
                      f"{r['failed_runs']} ({_shown(r['failed_run_cost'])})", str(r["queries"]), _shown(r["cost_impact"]))
    console.print(table)
    from decimal import Decimal

    total = sum((r["cost_impact"] for r in result.impact), Decimal(0))
    console.print(f"{len(result.impact)} incident(s); cost impact {_shown(total)} at list prices")
    if as_json:
        emit_json(result.summary())


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="incidents")
