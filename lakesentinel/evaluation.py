"""How well the monitor did on simulated data: incidents matched against injected scenarios.

An incident matches a scenario when it names one of the scenario's entities (a user, cluster,
warehouse, job or workspace) and its event-time span overlaps the scenario's window, widened because
rules and detectors see windows (up to a day before, a few hours after). Incidents on a standing
condition of the simulated organisation (``lakesentinel_sim.conditions``) are true findings too; any
other incident is a false one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from lakesentinel.truth import INCIDENT_SLACK, overlaps, truth_names



@dataclass
class Outcome:
    scenarios: int
    found: int
    by_type: dict[str, tuple[int, int]]  # type -> (found, injected)
    incidents: int
    true_incidents: int
    condition_incidents: int
    false_incidents: list[dict]
    simulated_days: float
    missed: list[dict] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.scenarios if self.scenarios else 1.0

    @property
    def false_per_day(self) -> float:
        return len(self.false_incidents) / self.simulated_days if self.simulated_days else 0.0


def _naive(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=None) if ts is not None and ts.tzinfo is not None else ts


def _mapping(value) -> dict:
    """Map columns arrive as dicts from Spark and as lists of pairs from delta-rs."""
    return dict(value) if value else {}


def matches(incident: dict, truth: dict) -> bool:
    ids = truth_names({**truth, "entities": _mapping(truth.get("entities"))})
    named = (incident.get("entity_id") in ids
             or any(v in ids for v in _mapping(incident.get("labels")).values())
             or (truth.get("entity_type") == "workspace" and incident.get("workspace_id") == truth.get("entity_id")
                 and incident.get("domain") == truth.get("domain")))
    if not named:
        return False
    first, last = _naive(incident.get("first_seen")), _naive(incident.get("last_seen"))
    start, end = _naive(truth["start_time"]), _naive(truth["end_time"])
    return first is not None and last is not None and overlaps(first, last, start, end, INCIDENT_SLACK)


def evaluate(incidents: list[dict], truths: list[dict], conditions: list[dict], simulated_days: float) -> Outcome:
    found_ids = set()
    by_type: dict[str, list[int]] = {}
    true_incidents = condition_incidents = 0
    false = []
    for inc in incidents:
        hits = [t for t in truths if matches(inc, t)]
        for t in hits:
            found_ids.add(t["scenario_id"])
        if hits:
            true_incidents += 1
        elif any(matches(inc, c) for c in conditions):
            condition_incidents += 1
        else:
            false.append(inc)
    for t in truths:
        counts = by_type.setdefault(t["scenario_type"], [0, 0])
        counts[1] += 1
        counts[0] += t["scenario_id"] in found_ids
    missed = [t for t in truths if t["scenario_id"] not in found_ids]
    return Outcome(len(truths), len(found_ids), {k: (v[0], v[1]) for k, v in sorted(by_type.items())},
                   len(incidents), true_incidents, condition_incidents, false, simulated_days, missed)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    arr = np.array(values, dtype=float)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)), "n": len(values)}


def _wall(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc).replace(tzinfo=None)


def latency_samples(spark, cfg, received, since: float, probe_rule: str | None = None) -> dict:
    """Seconds from source commit to alert row commit (per alert), and to the first webhook receipt
    (per signal), for rows committed from ``since`` (wall-clock seconds); ``received`` holds the
    receiver's notes (``at``, ``payload``).

    A notification is timed against its signal's first alert, and only for signals that first alerted
    after ``since`` (a signal already notified in the warm-up would be timed against a later alert).
    """
    from lakesentinel.lakehouse import Lakehouse

    lh = Lakehouse(cfg)
    rows = (spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 0)
            .table(lh.name("ops", "alerts"))
            .where("_change_type = 'insert' AND source_committed_at IS NOT NULL")
            .select("rule_id", "fingerprint", "source_committed_at", "_commit_timestamp").collect())
    first: dict[str, datetime] = {}
    for r in rows:
        if r["fingerprint"] not in first or r["source_committed_at"] < first[r["fingerprint"]]:
            first[r["fingerprint"]] = r["source_committed_at"]
    timed = [r for r in rows if r["source_committed_at"] >= _wall(since)]
    alert = [(r["_commit_timestamp"] - r["source_committed_at"]).total_seconds() for r in timed]
    probe = [s for r, s in zip(timed, alert) if r["rule_id"] == probe_rule]
    delivered, seen = [], set()
    for note in sorted(received, key=lambda n: n.at):
        for inc in note.payload.get("incidents", []):
            fp = inc.get("fingerprint")
            if fp in first and first[fp] >= _wall(since) and fp not in seen:
                seen.add(fp)
                delivered.append((_wall(note.at) - first[fp]).total_seconds())
    return {"alert": alert, "probe": probe, "delivered": delivered,
            "rules": sorted({r["rule_id"] for r in timed})}
