"""``lakesentinel dashboards build``: the Lakeview dashboards and their bundle resource, written into jobs/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakesentinel.cli.common import console, emit_json, settings
from lakesentinel.errors import LakeSentinelError

app = typer.Typer(help="Lakeview dashboards, one per persona (FinOps, platform, security, SRE).", no_args_is_help=True)


@app.command("build")
def build(
    bundle_dir: Annotated[Path, typer.Option(help="The bundle folder (holds databricks.yml).")] = Path("jobs"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if a file differs from what would be written.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: the files written (or differing).")] = False,
) -> None:
    """Generate each persona's .lvdash.json from gold's views, the metric views and the incident reviews,
    and the bundle's dashboards resource that deploys them."""
    from lakesentinel.dashboards.lakeview import build as build_files

    if not (bundle_dir / "databricks.yml").is_file():
        raise LakeSentinelError(f"--bundle-dir {bundle_dir}: no databricks.yml there (run from the repository root)")
    changed = build_files(bundle_dir, settings(), check=check)
    verb = "differ" if check else "written"
    for rel in changed:
        console.print(f"{verb}: {bundle_dir / rel}")
    console.print(f"{len(changed)} file(s) {verb}" + (" (run `lakesentinel dashboards build`)" if check and changed else ""))
    if as_json:
        emit_json({"check": check, "files": changed})
    if check and changed:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dashboards")
