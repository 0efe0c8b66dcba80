"""What every command shares: settings, the Spark session, console output and error handling."""

from __future__ import annotations

import json
import sys

from rich.console import Console

# Progress and tables go to stderr so that ``--json`` leaves one clean line on stdout.
console = Console(stderr=True)


def date_keys_text(dates: list[int]) -> str:
    """A short list of date keys for a table cell: all of up to four, else the range and the count."""
    if not dates:
        return "-"
    if len(dates) <= 4:
        return ", ".join(str(d) for d in dates)
    return f"{dates[0]}..{dates[-1]} ({len(dates)} dates)"


def emit_json(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def settings():
    from lakesentinel.settings import settings as cached

    return cached()


def context():
    """The composition root for this process's settings: every command builds what it runs here."""
    from lakesentinel.context import context_of

    return context_of(settings(), console=console)


def spark():
    return context().spark
