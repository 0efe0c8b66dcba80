"""Event-level evaluation of a detector's alerts against the simulator's ground truth.

Alerting windows of one entity that follow each other (at most one quiet window between them) form
one *detection*. A detection matches an injected scenario when their times overlap (the scenario
extended by one window, for the window that holds its last rows) and the entity agrees: every key
they both know (workspace, SKU, cluster, warehouse, job, user...) has the same value, and they share
at least one. Then, per detector:

- recall of a scenario type: share of its instances matched by at least one detection;
- precision: detections that match a scenario the detector is meant for, over those plus detections
  that match none. Detections that match only another type of scenario (a real incident, just not
  this detector's) are counted apart and left out of precision; so are detections during the
  simulator's scenario-free warm-up (the burn-in), while the models are still learning;
- delay: from the scenario's start to the end of the first matching alerting window (event time,
  i.e. the earliest moment the window is complete; landing delay of the source comes on top).

>>> import pandas as pd

from lakesentinel.truth import detection_slack, overlaps
>>> t = lambda h: pd.Timestamp("2026-03-10", tz="UTC") + pd.Timedelta(hours=h)
>>> scores = pd.DataFrame({"entity": [{"warehouse_id": "w1"}] * 4, "entity_id": ["w1"] * 4,
...     "window_start": [t(0), t(1), t(2), t(9)], "window_end": [t(1), t(2), t(3), t(10)],
...     "severity": ["high", "high", None, "low"]})
>>> truths = pd.DataFrame({"scenario_id": ["s1"], "scenario_type": ["query_latency_regression"],
...     "start_time": [t(0.5)], "end_time": [t(4)], "attributes": [{"warehouse_id": {"w1"}}]})
>>> r = evaluate_detections(scores, truths, targets=["query_latency_regression"], window=pd.Timedelta(hours=1),
...                         burn_in_end=t(-24))
>>> r.detections, r.true_positives, r.false_positives, r.recall["query_latency_regression"]
(2, 1, 1, 1.0)
>>> r.precision, r.delays_minutes["query_latency_regression"]
(0.5, [30.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from lakesentinel.truth import detection_slack, overlaps


@dataclass
class Evaluation:
    """Counts behind the figures, so that several runs can be added up (micro-averaged)."""

    targets: list[str]
    detections: int = 0
    true_positives: int = 0
    false_positives: int = 0
    other_incidents: int = 0  # detections matching only scenarios of other types
    burn_in: int = 0  # detections during the scenario-free warm-up
    instances: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    delays_minutes: dict[str, list[float]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # scenario ids not found
    false_detections: list[dict] = field(default_factory=list)  # entity and time of each false positive

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_positives
        return self.true_positives / judged if judged else None

    @property
    def recall(self) -> dict[str, float | None]:
        return {t: (self.found.get(t, 0) / n if n else None) for t, n in self.instances.items()}

    def f1(self, scenario_type: str) -> float | None:
        p, r = self.precision, self.recall.get(scenario_type)
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)

    def __add__(self, other: "Evaluation") -> "Evaluation":
        out = Evaluation(targets=sorted(set(self.targets) | set(other.targets)))
        for name in ("detections", "true_positives", "false_positives", "other_incidents", "burn_in"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        for name in ("instances", "found"):
            merged = dict(getattr(self, name))
            for k, v in getattr(other, name).items():
                merged[k] = merged.get(k, 0) + v
            setattr(out, name, merged)
        out.delays_minutes = {k: list(self.delays_minutes.get(k, [])) + list(other.delays_minutes.get(k, []))
                              for k in set(self.delays_minutes) | set(other.delays_minutes)}
        out.missed = self.missed + other.missed
        out.false_detections = self.false_detections + other.false_detections
        return out


def detections(scores: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Alerting windows merged per entity into detections: entity, start, end, first alert end."""
    alerting = scores[scores["severity"].notna()].copy()
    columns = ["entity_id", "entity", "start", "end", "first_alert_end", "windows", "max_score"]
    if alerting.empty:
        return pd.DataFrame(columns=columns)
    alerting["_key"] = alerting["entity"].map(lambda e: tuple(sorted(dict(e).items())))
    alerting = alerting.sort_values(["_key", "window_start"])
    out = []
    for _, group in alerting.groupby("_key", sort=True):
        current = None
        for row in group.itertuples():
            if current is not None and row.window_start - current["end"] <= window:
                current["end"] = max(current["end"], row.window_end)
                current["windows"] += 1
                current["max_score"] = max(current["max_score"], getattr(row, "score", 0.0) or 0.0)
                continue
            if current is not None:
                out.append(current)
            current = {"entity_id": row.entity_id, "entity": dict(row.entity), "start": row.window_start,
                       "end": row.window_end, "first_alert_end": row.window_end, "windows": 1,
                       "max_score": getattr(row, "score", 0.0) or 0.0}
        out.append(current)
    return pd.DataFrame(out, columns=columns)


def _agrees(entity: dict[str, str], attributes: dict[str, set[str]]) -> bool:
    shared = [k for k in entity if k in attributes]
    return bool(shared) and all(entity[k] in attributes[k] for k in shared)


def evaluate_detections(scores: pd.DataFrame, truths: pd.DataFrame, targets: list[str], window: pd.Timedelta,
                        burn_in_end: pd.Timestamp) -> Evaluation:
    """Score one detector's windows (columns of ``detector_scores``) against ground truth.

    ``truths`` has ``scenario_id``, ``scenario_type``, ``start_time``, ``end_time`` and ``attributes``
    (key -> set of values the scenario's entity has; see :func:`truth_attributes`).
    """
    result = Evaluation(targets=list(targets))
    found_by: dict[str, list[pd.Timestamp]] = {}
    slack = detection_slack(window)
    for d in detections(scores, window).itertuples():
        matched = [t for t in truths.itertuples()
                   if overlaps(d.start, d.end, t.start_time, t.end_time, slack) and _agrees(d.entity, t.attributes)]
        result.detections += 1
        if d.start < burn_in_end:
            result.burn_in += 1
            continue
        on_target = [t for t in matched if t.scenario_type in targets]
        if on_target:
            result.true_positives += 1
            for t in on_target:
                found_by.setdefault(t.scenario_id, []).append(d.first_alert_end)
        elif matched:
            result.other_incidents += 1
        else:
            result.false_positives += 1
            result.false_detections.append({"entity": d.entity, "start": str(d.start), "end": str(d.end),
                                            "max_score": round(float(d.max_score), 3)})
    for t in truths.itertuples():
        if t.scenario_type not in targets:
            continue
        result.instances[t.scenario_type] = result.instances.get(t.scenario_type, 0) + 1
        hits = found_by.get(t.scenario_id)
        if hits:
            result.found[t.scenario_type] = result.found.get(t.scenario_type, 0) + 1
            first = min(h for h in hits if h is not None)
            delay = max(0.0, (first - t.start_time).total_seconds() / 60.0)
            result.delays_minutes.setdefault(t.scenario_type, []).append(round(delay, 1))
        else:
            result.missed.append(t.scenario_id)
    for t in targets:
        result.instances.setdefault(t, 0)
    return result


def truth_attributes(truths: pd.DataFrame, skus: dict[str, set[str]] | None = None) -> pd.DataFrame:
    """Ground truth with ``attributes``: what identifies each scenario's entity, as sets of values.

    ``skus`` (scenario id -> SKUs its entity billed during the scenario) lets cost detectors keyed by
    SKU match precisely.
    """
    out = truths.copy()

    def attrs(row) -> dict[str, set[str]]:
        a: dict[str, set[str]] = {"workspace_id": {str(row.workspace_id)}}
        if row.entity_type and row.entity_id:
            a.setdefault(f"{row.entity_type}_id" if row.entity_type in ("cluster", "warehouse", "job") else
                         row.entity_type, set()).add(str(row.entity_id))
        for k, v in dict(row.entities or {}).items():
            a.setdefault(k, set()).add(str(v))
        if skus and row.scenario_id in skus:
            a["sku_name"] = set(skus[row.scenario_id])
        return a

    out["attributes"] = [attrs(r) for r in out.itertuples()]
    return out
