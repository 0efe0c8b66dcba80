"""``lakesentinel replay``: load a real workspace's exported system-table rows into the local source table."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lakesentinel.cli.common import console, context, emit_json


def replay(
    table: Annotated[str, typer.Option(help="System table, e.g. system.access.audit.")],
    file: Annotated[str, typer.Option(help="Exported rows: Parquet, JSON lines or CSV (file or folder).")],
    fmt: Annotated[Optional[str], typer.Option("--format", help="parquet, json or csv (default: from the name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Append exported rows to the local source table after checking every column and type (rows already held are skipped)."""
    from lakesentinel.sources.replay import replay as run

    ctx = context()
    ctx.require_local("replay")
    result = run(ctx.spark, ctx.cfg, table, file, fmt)
    console.print(f"Appended {result.rows:,} rows from {result.file} ({result.format}) to {result.table}"
                  + (f"; {result.skipped:,} already held (same natural key) skipped" if result.skipped else ""))
    if result.added_columns:
        console.print(f"New column(s) or nested field(s) kept, added to the local table: {', '.join(result.added_columns)}",
                      markup=False)
    if as_json:
        emit_json({"table": result.table, "rows": result.rows, "file": result.file, "format": result.format,
                   "skipped": result.skipped, "added_columns": result.added_columns})


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
