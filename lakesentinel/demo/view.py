"""The demo's live view: incidents as they open and resolve (read without Spark, with delta-rs), and
how far behind each stage of the monitor is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from lakesentinel.deltars import read_arrow

if TYPE_CHECKING:
    from lakesentinel.demo.live_run import LiveRunState

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def read_rows(path: str | None, columns: list[str] | None = None) -> list[dict]:
    if not path or not (Path(path) / "_delta_log").is_dir():
        return []
    try:
        return read_arrow(path, columns=columns).to_pylist()
    except Exception:  # a commit in flight: show the previous picture
        return []


def render(incidents: list[dict], alerts: int, progress: LiveRunState, limit: int = 18) -> Group:
    open_ = [i for i in incidents if i["status"] in ("open", "acknowledged")]
    resolved = [i for i in incidents if i["status"] == "resolved"]
    silenced = [i for i in incidents if i["status"] == "silenced"]
    head = Text.assemble(
        ("lakesentinel demo ", "bold"), (f"[{progress.phase}] ", "magenta"),
        f"simulated {progress.sim_time} | events {progress.events:,} | alerts {alerts:,} | incidents: ",
        (f"{len(open_)} open ", "red"), (f"{len(resolved)} resolved ", "green"), f"{len(silenced)} inhibited | ",
        f"webhook notifications {progress.notifications}")
    behind = sorted((s for s in progress.backlog if not s.caught_up), key=lambda s: -s.behind)
    lag = Text.assemble(("backlog ", "bold"), ", ".join(f"{s.stage} {s.behind}" for s in behind[:8])
                        + (f" (+{len(behind) - 8} more)" if len(behind) > 8 else "")
                        if behind else ("every stage has covered its input" if progress.backlog else "-"))
    if progress.growing:  # the machine is not keeping up with the rate: say so while it happens
        lag.append(f" | growing since the live phase began: {', '.join(progress.growing)}", style="red")
    table = Table("opened", "status", "severity", "domain", "incident", "entity", expand=True)
    recent = sorted(incidents, key=lambda i: i["opened_at"] or 0, reverse=True)[:limit]
    for inc in recent:
        sev = inc["severity"] or ""
        table.add_row(str(inc["opened_at"])[11:19], inc["status"], Text(sev, style=STYLE.get(sev, "")),
                      inc["domain"] or "", Text(inc["title"] or ""), Text(str(inc["entity_id"] or "")[:40]))
    return Group(head, lag, table)
