"""Entry point: ``lakesentinel --help``."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from lakesentinel.cli import simulate as simulate_cmd
from lakesentinel.cli import replay as replay_cmd
from lakesentinel.cli import demo as demo_cmd
from lakesentinel.cli import bench as bench_cmd
from lakesentinel.cli.common import console
from lakesentinel.errors import LakeSentinelError

app = typer.Typer(
    help="lakesentinel: a real-time monitor for the Databricks platform, built on its system tables.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    env: Annotated[Optional[str], typer.Option("--env", help="Environment: local, dev or prod (config/<env>.yaml).")] = None,
) -> None:
    if env:
        os.environ["LAKESENTINEL_ENV"] = env


app.command("simulate")(simulate_cmd.simulate)
app.command("replay")(replay_cmd.replay)
app.command("demo")(demo_cmd.demo)
app.add_typer(bench_cmd.app, name="bench")


def main() -> None:
    try:
        app()
    except LakeSentinelError as exc:
        console.print("[bold red]error:[/]", end=" ")
        console.print(str(exc), markup=False, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
