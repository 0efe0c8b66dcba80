"""``lakesentinel app``: the Platform Health app over an existing lakehouse; ``app openapi`` writes its contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lakesentinel.cli.common import console, settings

app = typer.Typer(help="The Platform Health app: overview, domains, alert center, incident review, chat.",
                  invoke_without_command=True)

CONTRACT = Path(__file__).resolve().parents[1] / "app" / "openapi.json"


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8765,
) -> None:
    """Serve the app over the configured lakehouse until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    from lakesentinel.app.composition import build_app
    from lakesentinel.app.server import AppServer

    server = AppServer(build_app(settings()), host, port)
    if not (Path(__file__).resolve().parents[1] / "app" / "static" / "index.html").is_file():
        console.print("[yellow]the frontend is not built[/] (./run setup builds it); serving the API only")
    console.print(f"Platform Health app on [bold]{server.url}[/] (Ctrl-C stops it)")
    server.server.run()


def contract() -> dict:
    """The OpenAPI document of the app (no lakehouse needed to produce it)."""
    from lakesentinel.app.api import AppContext, create_app
    from lakesentinel.app.config import AppSettings

    return create_app(AppContext(None, AppSettings(), None, str, None), static_dir=None).openapi()


@app.command("openapi")
def openapi(
    out: Annotated[Optional[Path], typer.Option(help="Write here instead of the published contract.")] = None,
    check: Annotated[bool, typer.Option(help="Exit 1 when the published contract differs from the app.")] = False,
) -> None:
    """Write (or check) the published OpenAPI contract, lakesentinel/app/openapi.json."""
    text = json.dumps(contract(), indent=2, sort_keys=True) + "\n"
    target = out or CONTRACT
    if check:
        same = target.is_file() and target.read_text() == text
        console.print(f"{target}: {'matches the app' if same else 'differs from the app: run `lakesentinel app openapi`'}")
        raise typer.Exit(0 if same else 1)
    target.write_text(text)
    console.print(f"wrote {target}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="app")
