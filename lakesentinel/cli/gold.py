"""``lakesentinel gold ...``, ``lakesentinel maintain`` and ``lakesentinel bench incremental``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Optional

import typer
from rich.table import Table

from lakesentinel.cli.common import console, date_keys_text, emit_json, settings, spark
from lakesentinel.errors import LakeSentinelError

app = typer.Typer(help="Gold: the star schema (dimensions, facts by date) and the views that answer the "
                       "platform's questions.", no_args_is_help=True)


class UnknownViewError(LakeSentinelError):
    """A view name that is not one of gold's views."""


class ViewQueryError(LakeSentinelError):
    """A --where or --order-by that Spark cannot apply to the view."""


@app.command("build")
def build(
    full: Annotated[bool, typer.Option("--full", help="Rebuild every date of every table, ignoring offsets.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: each task's mode, dates, rows.")] = False,
) -> None:
    """Build gold from silver: dimensions, then facts for the dates that changed (late window included), then views."""
    from lakesentinel.gold.plan import run_gold

    with console.status("building gold" + (" (full)" if full else "")):
        report = run_gold(spark(), settings(), full=full)
    table = Table("task", "mode", "dates written", "rows", "seconds", title=f"gold build {report.build_id[:8]}")
    for r in report.results:
        table.add_row(r.task, r.mode + (f" ({r.reason})" if r.reason and r.reason != "--full" else ""),
                      date_keys_text(r.dates), f"{r.rows_written:,}", f"{r.seconds:.1f}")
    console.print(table)
    console.print(f"{len(report.views)} views; {report.seconds:.1f}s")
    if as_json:
        emit_json(report.summary())


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent <= -6 else str(value)
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


@app.command("views")
def views(
    name: Annotated[Optional[str], typer.Argument(help="A view to show, e.g. v_cost_drivers_daily; none lists them.")] = None,
    where: Annotated[Optional[str], typer.Option(help="Filter, a SQL condition, e.g. \"cost_rank <= 3\".")] = None,
    order_by: Annotated[Optional[str], typer.Option(help="Sort, e.g. \"date_key DESC, cost_rank\".")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: the views, or the rows shown.")] = False,
) -> None:
    """Create or refresh gold's views; list them, or show the rows of one."""
    from pyspark.sql import functions as F

    from lakesentinel.gold.ddl import apply_views

    session = spark()
    created = apply_views(session, settings())
    if name is None:
        table = Table("view", "answers", title="gold views")
        for v in created:
            table.add_row(v.view, v.comment or "")
        console.print(table)
        if as_json:
            emit_json({"views": {v.view: v.comment for v in created}})
        return
    chosen = next((v for v in created if v.view in (name, f"v_{name}") or v.name == name), None)
    if chosen is None:
        raise UnknownViewError(f"no gold view {name!r}; views: {', '.join(v.view for v in created)}")
    from pyspark.errors import PySparkException

    rows = session.table(chosen.name)
    try:
        if where:
            rows = rows.where(where)
        if order_by:
            rows = rows.orderBy(*[F.expr(part) for part in order_by.split(",")])
        shown = rows.limit(limit).collect()
    except PySparkException as exc:
        raise ViewQueryError(f"{chosen.view} with --where {where!r} --order-by {order_by!r}: "
                             f"{str(exc).splitlines()[0]} (columns: {', '.join(rows.columns)})") from None
    table = Table(*rows.columns, title=f"{chosen.view}: {chosen.comment or ''}")
    for row in shown:
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if as_json:
        emit_json({"view": chosen.view, "rows": [r.asDict(recursive=True) for r in shown]})


def maintain(
    layer: Annotated[Optional[list[str]], typer.Option(help="Layer to maintain (bronze, silver, gold, ops); repeat "
                                                            "for several; all when omitted.")] = None,
    table: Annotated[Optional[list[str]], typer.Option(help="Only this table (e.g. plt_gold.fact_cost_daily); "
                                                            "repeat for several.")] = None,
    retain_hours: Annotated[int, typer.Option(min=168, help="History VACUUM keeps, in hours (at least a week: "
                                                            "change-feed readers and time travel need it).")] = 168,
    optimize: Annotated[bool, typer.Option(help="Run OPTIMIZE (compaction; Z-ORDER or liquid clustering for gold facts).")] = True,
    vacuum: Annotated[bool, typer.Option(help="Run VACUUM.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: per table, files compacted and vacuumed.")] = False,
) -> None:
    """OPTIMIZE and VACUUM the lakehouse's tables."""
    from lakesentinel.gold.maintenance import check, maintain as run

    with console.status("maintaining tables"):
        results = run(spark(), settings(), layer, tables=table, optimize=optimize, vacuum=vacuum,
                      retain_hours=retain_hours)
    table = Table("table", "z-order", "files removed", "files added", "files vacuumed", "seconds", "error")
    for r in results:
        table.add_row(r.table, ", ".join(r.zorder_by), str(r.files_removed), str(r.files_added),
                      str(r.files_vacuumed), f"{r.seconds:.1f}", r.error or "")
    console.print(table)
    if as_json:
        emit_json({"tables": [r.as_dict() for r in results]})
    check(results)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="gold")
    root.command("maintain")(maintain)
