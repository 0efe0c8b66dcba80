"""``plt_ops.rule_quarantine``: the rules the running engine set aside, with the reason and the batch.

The engine appends a row whenever it quarantines a rule (Spark refused it, it failed on a batch, or its
evaluation overran the batch budget); the rule stays out of evaluation until its file changes (a new
version). ``rules lint`` reads the table and reports every rule whose current version is quarantined,
so a team sees at its desk what the monitor did with its rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from lakesentinel.issues import Issue
from lakesentinel.opstables import Tables
from lakesentinel.sources.types import parse_columns

QUARANTINE = "rule_quarantine"

QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rule_id", "string"),
    ("rule_version", "string"),
    ("file", "string"),
    ("source", "string"),
    ("reason", "string"),
    ("batch_id", "bigint"),
    ("quarantined_at", "timestamp"),
    ("date_key", "int"),
)
QUARANTINE_SCHEMA = parse_columns(list(QUARANTINE_COLUMNS))


def quarantine_row(rule, reason: str, batch_id: int, at: datetime) -> dict:
    return {"rule_id": rule.id, "rule_version": rule.version, "file": rule.file, "source": rule.source.name,
            "reason": reason, "batch_id": batch_id, "quarantined_at": at, "date_key": int(at.strftime("%Y%m%d"))}


def quarantined_issues(tables: Tables, rules: Iterable) -> list[Issue]:
    """An error per rule whose current version the running engine quarantined (its latest reason)."""
    current = {r.id: r for r in rules}
    latest: dict[str, dict] = {}
    for row in tables.read(tables.name("ops", QUARANTINE)):
        rule = current.get(row["rule_id"])
        if rule is None or rule.version != row["rule_version"]:
            continue  # the file changed since: the new version runs again
        if row["rule_id"] not in latest or row["quarantined_at"] > latest[row["rule_id"]]["quarantined_at"]:
            latest[row["rule_id"]] = row
    return [Issue("error", "quarantined",
                  f"quarantined by the running monitor on {row['quarantined_at']:%Y-%m-%d %H:%M:%S} UTC "
                  f"(batch {row['batch_id']} of {row['source']}), until its file changes: {row['reason']}",
                  current[rule_id].file, 0, 0, rule_id)
            for rule_id, row in sorted(latest.items())]
