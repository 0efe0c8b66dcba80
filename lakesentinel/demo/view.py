"""The demo's live view: incidents as they open and resolve, read without Spark (delta-rs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deltalake import DeltaTable
from rich.console import Group
from rich.table import Table
from rich.text import Text

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


@dataclass
class Progress:
    events: int = 0
    sim_time: str = ""
    notifications: int = 0
    phase: str = "starting"


def read_rows(path: str | None, columns: list[str] | None = None) -> list[dict]:
    if not path or not (Path(path) / "_delta_log").is_dir():
        return []
    try:
        return DeltaTable(path).to_pyarrow_table(columns=columns).to_pylist()
    except Exception:  # a commit in flight: show the previous picture
        return []


def render(incidents: list[dict], alerts: int, progress: Progress, limit: int = 18) -> Group:
    open_ = [i for i in incidents if i["status"] in ("open", "acknowledged")]
    resolved = [i for i in incidents if i["status"] == "resolved"]
    silenced = [i for i in incidents if i["status"] == "silenced"]
    head = Text.assemble(
        ("lakesentinel demo ", "bold"), (f"[{progress.phase}] ", "magenta"),
        f"simulated {progress.sim_time} | events {progress.events:,} | alerts {alerts:,} | incidents: ",
        (f"{len(open_)} open ", "red"), (f"{len(resolved)} resolved ", "green"), f"{len(silenced)} inhibited | ",
        f"webhook notifications {progress.notifications}")
    table = Table("opened", "status", "severity", "domain", "incident", "entity", expand=True)
    recent = sorted(incidents, key=lambda i: i["opened_at"] or 0, reverse=True)[:limit]
    for inc in recent:
        sev = inc["severity"] or ""
        table.add_row(str(inc["opened_at"])[11:19], inc["status"], Text(sev, style=STYLE.get(sev, "")),
                      inc["domain"] or "", Text(inc["title"] or ""), Text(str(inc["entity_id"] or "")[:40]))
    return Group(head, table)
