"""What the on-call engineer asks of incidents: which are open, what one of them is, and acknowledging
or resolving one. Reads ``plt_gold.fact_incident`` (and the command and delivery logs for one
incident's history); writes only requests to ``plt_ops.incident_commands``, which the lifecycle
applies (it alone writes the fact table).

>>> rows = [{"incident_id": "a1b2c3", "status": "open"}, {"incident_id": "a1ffff", "status": "resolved"}]
>>> find_incident(rows, "a1b")["incident_id"]
'a1b2c3'
>>> find_incident(rows, "a1")
Traceback (most recent call last):
...
lakesentinel.alerts.incident_queries.IncidentLookupError: 'a1' matches 2 incidents: a1b2c3 (open), a1ffff (resolved); give more of the id
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from lakesentinel.notify.deliveries import DELIVERIES
from lakesentinel.alerts.commands import COMMAND_SCHEMA, COMMANDS, request_row
from lakesentinel.alerts.engine import Command
from lakesentinel.alerts.incidents import ACTIVE, severity_rank
from lakesentinel.alerts.lifecycle import FACT_INCIDENT
from lakesentinel.alerts.record import SEVERITIES
from lakesentinel.errors import LakeSentinelError

STATUSES = ("open", "acknowledged", "silenced", "resolved")


class IncidentLookupError(LakeSentinelError):
    """No incident, or more than one, matches what was typed."""


@dataclass
class IncidentFilter:
    """Which incidents ``incidents list`` shows; empty fields do not filter."""

    statuses: tuple[str, ...] = ACTIVE
    min_severity: str | None = None
    domain: str | None = None
    workspace_id: str | None = None
    rule_id: str | None = None
    since: datetime | None = None  # opened at or after
    limit: int | None = 50

    def __post_init__(self):
        unknown = [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise LakeSentinelError(f"unknown status {', '.join(unknown)}; one of {', '.join(STATUSES)}")
        if self.min_severity is not None and self.min_severity not in SEVERITIES:
            raise LakeSentinelError(f"unknown severity {self.min_severity!r}; one of {', '.join(SEVERITIES)}")

    def keeps(self, row: dict) -> bool:
        return (row["status"] in self.statuses
                and (self.min_severity is None or severity_rank(row["severity"]) >= severity_rank(self.min_severity))
                and (self.domain is None or row["domain"] == self.domain)
                and (self.workspace_id is None or row["workspace_id"] == self.workspace_id)
                and (self.rule_id is None or row["rule_id"] == self.rule_id)
                and (self.since is None or row["opened_at"] >= self.since))

    def apply(self, rows: Iterable[dict]) -> list[dict]:
        """Matching rows, most severe first, then most recently active first."""
        kept = sorted((r for r in rows if self.keeps(r)),
                      key=lambda r: (-severity_rank(r["severity"]), -(r["last_alert_at"] or r["opened_at"]).timestamp()))
        return kept[: self.limit] if self.limit else kept


def load_incidents(tables) -> list[dict]:
    return tables.read(tables.name("gold", FACT_INCIDENT))


def find_incident(rows: list[dict], ref: str) -> dict:
    """The incident whose id is ``ref`` or starts with it (like a git commit id)."""
    ref = ref.strip()
    if not ref:
        raise IncidentLookupError("give an incident id (or the first characters of one)")
    exact = [r for r in rows if r["incident_id"] == ref]
    if exact:
        return exact[0]
    hits = [r for r in rows if r["incident_id"].startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise IncidentLookupError(f"no incident matches {ref!r} (see `lakesentinel incidents list --all`)")
    listed = ", ".join(f"{r['incident_id']} ({r['status']})" for r in sorted(hits, key=lambda r: r["incident_id"])[:5])
    raise IncidentLookupError(f"{ref!r} matches {len(hits)} incidents: {listed}; give more of the id")


def request(tables, action: str, incident: dict, by: str, note: str, now: datetime) -> Command:
    """Record an ack or resolve request for the lifecycle; refuse ones that cannot apply."""
    if incident["status"] == "resolved":
        raise LakeSentinelError(f"incident {incident['incident_id']} is already resolved "
                                f"(by {incident.get('resolved_by') or '?'} at {incident.get('resolved_at')})")
    if action == "ack" and incident.get("acknowledged_at") is not None:
        raise LakeSentinelError(f"incident {incident['incident_id']} was already acknowledged by "
                                f"{incident['acknowledged_by']} at {incident['acknowledged_at']:%Y-%m-%d %H:%M} UTC")
    cmd = Command.make(action, incident["incident_id"], by, note, now)
    tables.append(tables.name("ops", COMMANDS), [request_row(cmd)], COMMAND_SCHEMA)
    return cmd


def wait_for_outcome(tables, command_id: str, timeout_s: float, *, poll_s: float = 0.25,
                     sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str | None:
    """The lifecycle's answer to a command ("applied" or "not applied: ..."), or None if none came in time."""
    name = tables.name("ops", COMMANDS)
    deadline = clock() + timeout_s
    seen = -1
    while True:
        version = tables.version(name)
        if version is not None and version != seen:
            seen = version
            for row in tables.read(name):
                if row["command_id"] == command_id and row["outcome"]:
                    return row["outcome"]
        if clock() >= deadline:
            return None
        sleep(poll_s)


@dataclass
class History:
    commands: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)


def history(tables, incident_id: str) -> History:
    """Commands about the incident and delivery events of notifications that carried it, oldest first."""
    commands = [r for r in tables.read(tables.name("ops", COMMANDS)) if r["incident_id"] == incident_id]
    deliveries = [r for r in tables.read(tables.name("ops", DELIVERIES)) if incident_id in (r["incident_ids"] or [])]
    return History(sorted(commands, key=lambda r: (r["requested_at"], r["outcome"] is not None)),
                   sorted(deliveries, key=lambda r: r["at"]))
