"""Firings become alert records (``lakesentinel.alerts.record``): ids, summary, labels, evidence.

Ids come from :func:`~lakesentinel.alerts.record.fingerprint` and :func:`~lakesentinel.alerts.record.alert_id`,
the Python twins of ``fingerprint_col`` and ``alert_id_col`` (a test checks they agree), so a
replayed batch yields the same ``alert_id`` and the sink's MERGE keeps one row.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession

from lakesentinel.alerts.record import ALERT_COLUMNS, ALERT_SCHEMA, alert_id, fingerprint
from lakesentinel.rules.compiler import render
from lakesentinel.rules.windows import Firing

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def when(us: int | None) -> datetime | None:
    return None if us is None else EPOCH + timedelta(microseconds=int(us))


def _number(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def alert_record(f: Firing, detected_at: datetime) -> dict:
    """The alert row for one firing, as a dict of ALERT_SCHEMA's columns."""
    rule = f.rule
    fp = fingerprint(rule.id, {k: None if v is None else str(v) for k, v in f.group.items()})
    start, end = when(f.start_us), when(f.end_us)
    values = {k: v for k, v in f.group.items()}
    values.update({k: v for k, v in f.fields.items()})
    values.update({"observed": _number(f.observed), "threshold": _number(f.expected),
                   "window": _duration(rule.window_s) if rule.window_s else "", "rule": rule.id,
                   "title": rule.rule.title, "first_seen": when(f.first_us).isoformat() if f.first_us else "",
                   "last_seen": when(f.last_us).isoformat() if f.last_us else ""})
    if rule.rule.summary:
        summary = render(rule.rule.summary, values)
    else:
        who = ", ".join(f"{k}={v}" for k, v in f.group.items())
        metric = f": {_number(f.observed)} (threshold {_number(f.expected)})" if f.expected is not None else ""
        summary = f"{rule.rule.title}{metric} [{who}]"
    labels = dict(rule.rule.labels)
    labels.setdefault("source", rule.source.name)
    labels.setdefault("rule_kind", rule.kind)
    if rule.rule.tags:
        labels.setdefault("tags", ",".join(rule.rule.tags))
    return {
        "alert_id": alert_id(fp, start, end), "fingerprint": fp, "kind": "rule", "rule_id": rule.id,
        "rule_version": rule.version, "domain": rule.rule.domain, "severity": rule.rule.severity,
        "title": rule.rule.title, "summary": summary, "workspace_id": f.workspace_id,
        "entity_type": rule.entity_type, "entity_id": None if f.entity_id is None else str(f.entity_id),
        "window_start": start, "window_end": end, "observed": f.observed, "expected": f.expected, "score": 1.0,
        "evidence": {rule.source.evidence_name: list(f.evidence)}, "labels": labels,
        "runbook_url": rule.rule.runbook,
        "cost_impact": None if f.cost is None else Decimal(repr(round(f.cost, 12))),
        "detected_at": detected_at, "source_committed_at": when(f.committed_us),
        "date_key": int(end.strftime("%Y%m%d")),
    }


def alerts_frame(spark: SparkSession, records: list[dict]) -> DataFrame:
    """The records as a DataFrame of ALERT_SCHEMA (a local relation: no Spark job until it is written)."""
    names = [name for name, _ in ALERT_COLUMNS]
    return spark.createDataFrame([tuple(r[n] for n in names) for r in records], ALERT_SCHEMA)
