"""``lakesentinel advise [warehouses|tables|workflows]``: run the advisors and print their findings;
``advise accept|dismiss|done FINDING_ID``: the lifecycle of one finding."""

from __future__ import annotations

import getpass
import os
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lakesentinel.cli.common import console, emit_json, settings, spark

app = typer.Typer(help="Advisors: warehouse, table and workflow findings with evidence, impact and one action.",
                  invoke_without_command=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON line on stdout.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Also show findings no longer detected, dismissed and done.")]
IdArg = Annotated[str, typer.Argument(help="Finding id, or its first characters.")]


def _money(value) -> str:
    return "-" if value is None else f"{float(value):,.2f}"


def _show(advisor: str | None, as_json: bool, show_all: bool) -> None:
    from lakesentinel.advisors.run import advise_and_read

    with console.status(f"running the {advisor or 'warehouse, table and workflow'} advisor(s)"):
        runs, findings = advise_and_read(spark(), settings(), advisor)
    shown = [f for f in findings if show_all or (f["is_active"] and f["status"] in ("open", "accepted"))]
    table = Table("id", "advisor", "kind", "entity", "finding", "action", "$/month", "h/month", "status", "measured $/month",
                  title="findings", title_justify="left")
    for f in shown:
        table.add_row(f["finding_id"][:10], f["advisor"], f["kind"], escape(f"{f['entity_type']} {f['entity_name'] or f['entity_id']}"),
                      escape(f["title"] or ""), escape(f["action"] or ""), _money(f["monthly_cost_impact"]),
                      "-" if f["monthly_hours_impact"] is None else f"{f['monthly_hours_impact']:,.1f}",
                      f["status"] + ("" if f["is_active"] else " (gone)"), _money(f["measured_monthly_saving"]))
    console.print(table)
    for r in runs:
        console.print(f"{r.advisor}: {r.detected} finding(s)" + (f" over facts up to {r.as_of}" if r.as_of else ": no facts yet"))
    if as_json:
        emit_json({"runs": [{"advisor": r.advisor, "as_of": r.as_of, "detected": r.detected} for r in runs],
                   "findings": shown})


@app.callback()
def advise(ctx: typer.Context, as_json: JsonOpt = False, show_all: AllOpt = False) -> None:
    """Run every advisor over gold and print the open and accepted findings (or one advisor: a subcommand)."""
    if ctx.invoked_subcommand is None:
        _show(None, as_json, show_all)


def _advisor_command(name: str, what: str) -> None:
    def command(as_json: JsonOpt = False, show_all: AllOpt = False) -> None:
        _show(name, as_json, show_all)

    command.__doc__ = f"Run the {name} advisor and print its findings: {what}."
    app.command(name)(command)


_advisor_command("warehouses", "sizing, auto-stop, min/max clusters, serverless or pro, spill, costliest statements")
_advisor_command("tables", "small files, not optimised, unused, stale, large without clustering")
_advisor_command("workflows", "all-purpose compute, failures and retries, runtime regressions, over-provisioned "
                              "job clusters, no owner or cost tags")


def _status(status: str, finding: str, by: str | None, note: str | None, as_json: bool) -> None:
    from lakesentinel.advisors.findings import set_status
    from lakesentinel.clock import utcnow

    who = by or os.environ.get("LAKESENTINEL_USER") or getpass.getuser()
    row = set_status(spark(), settings(), finding, status, who, utcnow(), note)
    console.print(f"finding {row['finding_id']} ({row['advisor']} {row['kind']} on {escape(row['entity_name'] or row['entity_id'])}): "
                  f"{row['status']} by {escape(who)}")
    if as_json:
        emit_json(row)


ByOpt = Annotated[Optional[str], typer.Option(help="Who (default: $LAKESENTINEL_USER or your user).")]
NoteOpt = Annotated[Optional[str], typer.Option(help="Why, kept with the finding.")]


@app.command("accept")
def accept(finding: IdArg, by: ByOpt = None, note: NoteOpt = None, as_json: JsonOpt = False) -> None:
    """Accept a finding: from now on each run measures the entity's cost after against before."""
    _status("accepted", finding, by, note, as_json)


@app.command("dismiss")
def dismiss(finding: IdArg, by: ByOpt = None, note: NoteOpt = None, as_json: JsonOpt = False) -> None:
    """Dismiss a finding: re-runs keep it dismissed."""
    _status("dismissed", finding, by, note, as_json)


@app.command("done")
def done(finding: IdArg, by: ByOpt = None, note: NoteOpt = None, as_json: JsonOpt = False) -> None:
    """Mark a finding's action done (measured from acceptance, or from now if it was never accepted)."""
    _status("done", finding, by, note, as_json)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="advise")
