"""``lakesentinel demo``: the whole monitor on a simulated organisation, on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from lakesentinel.cli.simulate import simulate


def demo(
    profile: Annotated[str, typer.Option(help="Organisation size: small, medium or large.")] = "small",
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 3,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Simulate an organisation with injected incidents and print what was written."""
    simulate(profile=profile, days=days, seed=seed, start=None, scenarios="all", per_type=1, warmup_days=None,
             live=False, rate=1000.0, interval=1.0, duration=None, reset=True, as_json=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
