"""``plt_ops.incident_commands``: acknowledgements and manual resolutions, and what became of them.

The CLI appends a request (``outcome`` empty); the lifecycle applies it in its next step and appends
the outcome under the same ``command_id``. The lifecycle alone writes ``fact_incident``, so an
acknowledgement never races a MERGE.
"""

from __future__ import annotations

from datetime import datetime

from lakesentinel.alerts.engine import Command
from lakesentinel.sources.types import parse_columns

COMMANDS = "incident_commands"

COMMAND_COLUMNS: tuple[tuple[str, str], ...] = (
    ("command_id", "string"),
    ("action", "string"),  # ack | resolve
    ("incident_id", "string"),
    ("requested_by", "string"),
    ("note", "string"),
    ("requested_at", "timestamp"),
    ("outcome", "string"),  # empty on the request; "applied" or "not applied: <why>" afterwards
    ("outcome_at", "timestamp"),
)
COMMAND_SCHEMA = parse_columns(list(COMMAND_COLUMNS))


def request_row(cmd: Command) -> dict:
    return {"command_id": cmd.command_id, "action": cmd.action, "incident_id": cmd.incident_id,
            "requested_by": cmd.by, "note": cmd.note, "requested_at": cmd.requested_at,
            "outcome": None, "outcome_at": None}


def outcome_row(cmd: Command, outcome: str, now: datetime) -> dict:
    return {**request_row(cmd), "outcome": outcome, "outcome_at": now}


def command_of(row: dict) -> Command:
    return Command(row["command_id"], row["action"], row["incident_id"], row["requested_by"], row["note"] or "",
                   row["requested_at"])


def operator() -> str:
    """Who is at the keyboard: ``$LAKESENTINEL_USER``, else the operating-system user."""
    import getpass
    import os

    return os.environ.get("LAKESENTINEL_USER") or getpass.getuser()
