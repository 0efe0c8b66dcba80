"""Incidents as the alert center and the incident review read them: the list, one incident with its
evidence, linked facts and runbook, its timeline, and MTTA/MTTR trends. Rows come from the CLI's
tables (``incident_queries``), so the app and ``lakesentinel incidents`` agree."""

from __future__ import annotations

import re
from datetime import datetime

from lakesentinel.alerts.incident_queries import STATUSES, IncidentFilter, find_incident, history, load_incidents
from lakesentinel.app.query_layer import QueryLayer

# Incident fields the list shows (the full row is in the detail).
LIST_FIELDS = ("incident_id", "status", "muted_by", "severity", "domain", "rule_id", "title", "summary", "workspace_id",
               "entity_type", "entity_id", "opened_at", "last_alert_at", "alert_count", "acknowledged_by",
               "acknowledged_at", "resolved_by", "resolved_at", "cost_impact", "runbook_url", "labels")

# Evidence keys an alert carries, and the gold fact holding the row each names.
LINKED_FACTS = {"event_id": ("fact_security_event", "event_id"),
                "statement_id": ("fact_query_execution", "statement_id"),
                "run_id": ("fact_job_run", "run_id")}
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.:@\-]{1,200}$")


def owner(row: dict) -> str | None:
    """Who has it: whoever acknowledged it, else the team its labels route to."""
    labels = row.get("labels") or {}
    return row.get("acknowledged_by") or labels.get("team") or labels.get("owner")


def summary_row(row: dict, now: datetime) -> dict:
    out = {k: row.get(k) for k in LIST_FIELDS}
    out["owner"] = owner(row)
    out["age_seconds"] = round((now - row["opened_at"]).total_seconds(), 1) if row.get("opened_at") else None
    return out


def list_incidents(layer: QueryLayer, now: datetime, statuses: tuple[str, ...] | None = None,
                   domain: str | None = None, limit: int | None = 200) -> list[dict]:
    flt = IncidentFilter(statuses or STATUSES, None, None, None, None, None, limit)
    rows = flt.apply(load_incidents(layer.tables))
    if domain:
        from lakesentinel.app.overview import domain_of

        rows = [r for r in rows if domain_of(r["domain"]) == domain]
    return [summary_row(r, now) for r in rows]


def _alerts(layer: QueryLayer, row: dict) -> list[dict]:
    if not layer.exists("ops", "alerts"):
        return []
    fp = row["fingerprint"]
    if not _SAFE_KEY.match(fp):
        return []
    return layer.rows("incident alerts", f"""
        SELECT alert_id, severity, title, summary, window_start, window_end, observed, expected, score, evidence,
               detected_at, CAST(cost_impact AS DOUBLE) AS cost_impact
        FROM {{ops}}.alerts WHERE fingerprint = '{fp}'
        ORDER BY detected_at LIMIT 200""")


def _linked_facts(layer: QueryLayer, alerts: list[dict]) -> dict[str, list[dict]]:
    keys: dict[str, set[str]] = {}
    for a in alerts:
        for kind, values in (a.get("evidence") or {}).items():
            if kind in LINKED_FACTS:
                keys.setdefault(kind, set()).update(v for v in values or [] if _SAFE_KEY.match(v))
    out = {}
    for kind, values in keys.items():
        table, column = LINKED_FACTS[kind]
        if not values or not layer.exists("gold", table):
            continue
        listed = ", ".join(f"'{v}'" for v in sorted(values)[:50])
        out[table] = layer.rows(f"linked {table}", f"SELECT * FROM {{gold}}.{table} WHERE {column} IN ({listed}) LIMIT 50")
    return out


def timeline(row: dict, alerts: list[dict], commands: list[dict], deliveries: list[dict]) -> list[dict]:
    """Everything that happened to one incident, oldest first."""
    events = [{"at": row["opened_at"], "kind": "opened", "text": f"opened: {row['title']}"}]
    events += [{"at": a["detected_at"], "kind": "alert", "text": a["summary"] or a["title"]} for a in alerts]
    events += [{"at": d["at"], "kind": "notification", "text": f"{d['integration']}: {d['event']}"
                + (f" ({d['error']})" if d.get("error") else "")} for d in deliveries]
    events += [{"at": c["outcome_at"] or c["requested_at"], "kind": "command",
                "text": f"{c['action']} by {c['requested_by']}" + (f": {c['note']}" if c["note"] else "")
                + f" -> {c['outcome'] or 'requested'}"} for c in commands]
    if row.get("acknowledged_at"):
        events.append({"at": row["acknowledged_at"], "kind": "acknowledged", "text": f"acknowledged by {row['acknowledged_by']}"})
    if row.get("resolved_at"):
        events.append({"at": row["resolved_at"], "kind": "resolved",
                       "text": f"resolved by {row['resolved_by']}" + (f": {row['resolution']}" if row.get("resolution") else "")})
    return sorted((e for e in events if e["at"] is not None), key=lambda e: e["at"])


def incident_detail(layer: QueryLayer, ref: str, now: datetime) -> dict:
    row = find_incident(load_incidents(layer.tables), ref)
    past = history(layer.tables, row["incident_id"])
    alerts = _alerts(layer, row)
    return {"incident": summary_row(row, now) | {k: row.get(k) for k in (
                "fingerprint", "kind", "rule_version", "first_seen", "last_seen", "max_score", "last_observed",
                "last_expected", "first_notified_at", "resolution", "time_to_acknowledge_s", "time_to_resolve_s",
                "external_refs", "receivers")},
            "alerts": alerts, "linked_facts": _linked_facts(layer, alerts),
            "timeline": timeline(row, alerts, past.commands, past.deliveries)}


def response_trends(layer: QueryLayer) -> list[dict]:
    """Per day an incident opened: how many, mean time to acknowledge and to resolve (seconds)."""
    days: dict[int, list[dict]] = {}
    for r in load_incidents(layer.tables):
        days.setdefault(r["date_key"], []).append(r)

    def mean(values):
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 1) if values else None

    return [{"date_key": d, "incidents": len(rows), "mtta_s": mean(r["time_to_acknowledge_s"] for r in rows),
             "mttr_s": mean(r["time_to_resolve_s"] for r in rows)} for d, rows in sorted(days.items())]
