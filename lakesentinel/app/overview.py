"""The overview page: a health score per domain, open incidents, spend against budget, and the
freshness of every source table and stream."""

from __future__ import annotations

from datetime import datetime

from lakesentinel.alerts.incidents import ACTIVE
from lakesentinel.app.query_layer import QueryLayer
from lakesentinel.health import expected_streams  # imported with the app, not on its first request
from lakesentinel.silver.plan import silver_tasks  # noqa: F401  (expected_streams imports it; heavy, so here)
from lakesentinel.settings import Settings

# The app's four domains and the incident domains each one covers.
DOMAINS: dict[str, tuple[str, ...]] = {
    "cost": ("cost",),
    "security": ("security",),
    "performance": ("query", "performance"),
    "reliability": ("reliability", "platform"),
}
# What an active incident takes off its domain's score of 100.
PENALTY = {"critical": 40, "high": 20, "medium": 10, "low": 5, "info": 1}


def domain_of(incident_domain: str | None) -> str:
    return next((d for d, covered in DOMAINS.items() if incident_domain in covered), "reliability")


def health_scores(incidents: list[dict]) -> list[dict]:
    """100 for a domain with no active incident, less for each by its severity, never below 0.

    >>> [s["score"] for s in health_scores([{"status": "open", "domain": "cost", "severity": "high"},
    ...                                     {"status": "resolved", "domain": "security", "severity": "critical"}])]
    [80, 100, 100, 100]
    """
    out = []
    for domain in DOMAINS:
        active = [i for i in incidents if i["status"] in ACTIVE and domain_of(i["domain"]) == domain]
        score = max(0, 100 - sum(PENALTY.get(i["severity"], 0) for i in active))
        out.append({"domain": domain, "score": score, "active_incidents": len(active),
                    "status": "healthy" if score >= 90 else "degraded" if score >= 60 else "unhealthy"})
    return out


SPEND_SQL = """
SELECT date_key, CAST(sum(list_cost) AS DOUBLE) AS list_cost, count(DISTINCT workspace_id) AS workspaces
FROM {gold}.fact_cost_daily GROUP BY date_key ORDER BY date_key DESC LIMIT 30
"""

STREAMS_SQL = """
SELECT stream, kind, max(recorded_at) AS last_seen_at,
       max(CASE WHEN num_input_rows > 0 THEN recorded_at END) AS last_data_at,
       max_by(event, recorded_at) AS last_event,
       max_by(error, recorded_at) AS last_error
FROM {ops}.stream_metrics GROUP BY stream, kind
"""


def spend_against_budget(layer: QueryLayer, daily_budget: float) -> dict:
    """The last 30 days of list cost beside a budget of ``daily_budget`` per workspace and day."""
    if not layer.exists("gold", "fact_cost_daily"):
        return {"days": [], "latest": None}
    days = sorted(layer.rows("spend per day", SPEND_SQL), key=lambda r: r["date_key"])
    series = [{"date_key": d["date_key"], "list_cost": round(d["list_cost"] or 0.0, 2),
               "budget": round(daily_budget * d["workspaces"], 2)} for d in days]
    latest = series[-1] if series else None
    return {"days": series, "latest": latest,
            "period_list_cost": round(sum(d["list_cost"] for d in series), 2),
            "period_budget": round(sum(d["budget"] for d in series), 2)}


def freshness(layer: QueryLayer, cfg: Settings, now: datetime) -> list[dict]:
    """Every source table's bronze stream and every silver task: when it last ran, and last saw data."""
    seen = {r["stream"]: r for r in layer.rows("stream freshness", STREAMS_SQL)} \
        if layer.exists("ops", "stream_metrics") else {}
    out = []
    names = dict(expected_streams(cfg)) | {s: r["kind"] for s, r in seen.items()}
    for stream, kind in sorted(names.items()):
        r = seen.get(stream)
        last = r["last_seen_at"] if r else None
        age = (now - last).total_seconds() if last else None
        failed = bool(r and (r["last_event"] or "").startswith("fail"))
        status = "never" if r is None else "failed" if failed else "live" if age is not None and age < 300 else "idle"
        out.append({"stream": stream, "kind": kind, "source": stream.removeprefix("bronze.") if stream.startswith("bronze.") else None,
                    "last_seen_at": last, "last_data_at": r["last_data_at"] if r else None,
                    "age_seconds": None if age is None else round(age, 1), "status": status,
                    "error": (r["last_error"] or None) if r else None})
    return out
