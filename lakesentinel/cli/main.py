"""Entry point: ``lakesentinel --help``.

Every module in ``lakesentinel/cli/`` that defines ``register(app)`` adds its commands; the entry point
itself stays the same as commands are added.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Annotated, Optional

import typer

import lakesentinel.cli as cli_package
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
    catalog: Annotated[Optional[str], typer.Option(
        "--catalog", help="Unity Catalog catalog of lakesentinel's tables (sets LAKESENTINEL_CATALOG).")] = None,
    files: Annotated[Optional[str], typer.Option(
        "--files", help="Folder of the team's own rules/, rules/detectors/ and config/routes.yaml "
                        "(sets LAKESENTINEL_FILES; empty: the packs shipped in the wheel).")] = None,
    secret_scope: Annotated[Optional[str], typer.Option(
        "--secret-scope", help="Databricks secret scope of receiver secrets (sets LAKESENTINEL_SECRET_SCOPE).")] = None,
) -> None:
    # Job tasks on serverless compute take parameters, not environment variables: these set the
    # variables the configuration files read, so both ways of deploying configure the same thing.
    for name, value in (("LAKESENTINEL_ENV", env), ("LAKESENTINEL_CATALOG", catalog),
                        ("LAKESENTINEL_FILES", files), ("LAKESENTINEL_SECRET_SCOPE", secret_scope)):
        if value is not None:
            os.environ[name] = value


for _info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{cli_package.__name__}.{_info.name}")
    if hasattr(_module, "register"):
        _module.register(app)


def main() -> None:
    try:
        app()
    except LakeSentinelError as exc:
        console.print("[bold red]error:[/]", end=" ")
        console.print(str(exc), markup=False, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
