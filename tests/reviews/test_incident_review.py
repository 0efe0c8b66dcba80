"""Incident reviews over a small fact_incident and hand-made cost, job-run and query facts: every
figure below can be worked out by hand from the rows written here."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from tests.conftest import settings_for

T = datetime  # naive UTC, as the lakehouse stores timestamps


def _incident(incident_id, rule_id, kind, domain, severity, entity_type, entity_id, first_seen, last_seen, alerts,
              ack_s=None, resolve_s=None, resolution=None):
    from lakesentinel.alerts.incidents import FACT_INCIDENT_COLUMNS

    opened = first_seen + timedelta(minutes=1)
    row = {name: None for name, _ in FACT_INCIDENT_COLUMNS}
    row.update(incident_id=incident_id, fingerprint=f"fp-{incident_id}", kind=kind, rule_id=rule_id, rule_version="1",
               domain=domain, severity=severity, title=f"{rule_id} on {entity_id}", summary="", workspace_id="1",
               entity_type=entity_type, entity_id=entity_id, labels={}, routes=[], group_keys=[], receivers=[],
               first_seen=first_seen, last_seen=last_seen, opened_at=opened, last_alert_at=opened,
               alert_count=alerts, last_alert_id=f"a-{incident_id}", external_refs={}, updated_at=opened,
               date_key=int(opened.strftime("%Y%m%d")),
               status="resolved" if resolve_s is not None else "acknowledged" if ack_s is not None else "open")
    if ack_s is not None:
        row.update(acknowledged_at=opened + timedelta(seconds=ack_s), acknowledged_by="oncall",
                   time_to_acknowledge_s=float(ack_s))
    if resolve_s is not None:
        row.update(resolved_at=opened + timedelta(seconds=resolve_s), resolution=resolution,
                   resolved_by="lakesentinel" if resolution.startswith("auto") else "oncall",
                   time_to_resolve_s=float(resolve_s))
    return row


INCIDENTS = [
    # A: a failing job, resolved by hand
    _incident("inc_a", "job_failure_streak", "rule", "reliability", "high", "job", "j1",
              T(2026, 3, 9, 10), T(2026, 3, 9, 12), 3, ack_s=60, resolve_s=600, resolution="manual: fixed the credentials"),
    # B: a queueing warehouse, resolved when the signal stopped
    _incident("inc_b", "queue_saturation", "rule", "query", "medium", "warehouse", "w1",
              T(2026, 3, 9, 10, 30), T(2026, 3, 9, 10, 45), 5, ack_s=120, resolve_s=3600,
              resolution="auto: no alert for 3600s"),
    # C: a cluster's cost, a false positive
    _incident("inc_c", "cost_cluster_hourly", "detector", "cost", "high", "cluster", "c1",
              T(2026, 3, 3, 2), T(2026, 3, 3, 4), 2, resolve_s=300, resolution="manual: false positive: planned backfill"),
    # D: still open, an entity with no cost
    _incident("inc_d", "repeated_failed_logins", "rule", "security", "critical", "ip", "10.0.0.1",
              T(2026, 3, 10, 8), T(2026, 3, 10, 8, 10), 1),
    # E: before the review's window
    _incident("inc_e", "queue_saturation", "rule", "query", "medium", "warehouse", "w1",
              T(2026, 2, 20, 10), T(2026, 2, 20, 11), 40, ack_s=10, resolve_s=20, resolution="manual"),
]

# (hour, workspace, job, warehouse, cluster, list cost)
COST = [
    (T(2026, 3, 9, 10), "1", "j1", None, "jc1", "4"),
    (T(2026, 3, 9, 11), "1", "j1", None, "jc2", "6"),
    (T(2026, 3, 9, 12), "1", "j1", None, "jc3", "100"),  # after the window
    (T(2026, 3, 8, 10), "1", "j1", None, "jc4", "2"),  # baseline: a day before
    (T(2026, 3, 5, 11), "1", "j1", None, "jc5", "5"),  # baseline: four days before
    (T(2026, 3, 1, 10), "1", "j1", None, "jc6", "70"),  # eight days before: not in the baseline
    (T(2026, 3, 9, 10), "1", None, "w1", None, "8"),
    (T(2026, 3, 9, 10), "2", None, "w1", None, "1000"),  # another workspace's w1
    (T(2026, 3, 3, 2), "1", None, None, "c1", "20"),
    (T(2026, 3, 3, 3), "1", None, None, "c1", "30"),
    (T(2026, 3, 2, 2), "1", None, None, "c1", "7"),  # baseline
]

# (run, start, end, failed, list cost)
RUNS = [
    ("r1", T(2026, 3, 9, 10, 5), T(2026, 3, 9, 10, 35), True, "3"),
    ("r2", T(2026, 3, 9, 11), T(2026, 3, 9, 11, 20), False, "2"),
    ("r3", T(2026, 3, 9, 9), T(2026, 3, 9, 9, 30), True, "50"),  # ended before the incident
]

# (statement, start, failed, total ms, queued ms, spilled bytes)
QUERIES = [
    ("q1", T(2026, 3, 9, 10, 31), False, 60_000, 30_000, 0),
    ("q2", T(2026, 3, 9, 10, 50), False, 5_000, 0, 0),  # after the window
    ("q3", T(2026, 3, 9, 10, 40), True, 1_000, 0, 100),
]


def _insert(spark, cfg, table, rows):
    from lakesentinel.gold.config import load_gold_settings
    from lakesentinel.gold.ddl import apply_table, table_ddl

    name = apply_table(spark, cfg, load_gold_settings(cfg), table_ddl(cfg, table))
    schema = spark.table(name).schema
    full = [tuple(r.get(f.name) for f in schema.fields) for r in rows]
    spark.createDataFrame(full, schema).write.insertInto(name)


@pytest.fixture(scope="module")
def review_lake(spark, tmp_path_factory):
    from lakesentinel.alerts.lifecycle import merge_incidents

    cfg = settings_for(tmp_path_factory.mktemp("reviews"))
    built = {"_build_id": "b", "_built_at": T(2026, 3, 11)}
    merge_incidents(spark, cfg, INCIDENTS)
    _insert(spark, cfg, "fact_cost_hourly", [
        {"date_key": int(h.strftime("%Y%m%d")), "hour_start": h, "workspace_id": ws, "job_id": job, "warehouse_id": wh,
         "cluster_id": cl, "sku_name": "JOBS" if job else "SQL" if wh else "ALL_PURPOSE", "principal_name": "svc",
         "list_cost": Decimal(cost), **built} for h, ws, job, wh, cl, cost in COST])
    _insert(spark, cfg, "fact_job_run", [
        {"date_key": int(s.strftime("%Y%m%d")), "run_id": run, "workspace_id": "1", "job_id": "j1", "start_time": s,
         "end_time": e, "is_failed": failed, "list_cost": Decimal(cost), **built} for run, s, e, failed, cost in RUNS])
    _insert(spark, cfg, "fact_query_execution", [
        {"date_key": int(s.strftime("%Y%m%d")), "statement_id": sid, "workspace_id": "1", "warehouse_id": "w1",
         "executed_by": "analyst@x.com", "start_time": s, "is_failed": failed, "total_duration_ms": total,
         "waiting_at_capacity_duration_ms": queued, "spilled_local_bytes": spilled, **built}
        for sid, s, failed, total, queued, spilled in QUERIES])
    return cfg


@pytest.fixture(scope="module")
def review(spark, review_lake):
    from lakesentinel.reviews.incident_review import run_review
    from lakesentinel.session import get_spark

    return run_review(get_spark(review_lake), review_lake, date(2026, 3, 2))


def _response(review, breakdown, value):
    return next(r for r in review.response if r["breakdown"] == breakdown and r["value"] == value)


def test_mtta_mttr_and_false_positive_share_over_the_window(review):
    everything = _response(review, "all", "all")
    assert (everything["incidents"], everything["acknowledged"], everything["resolved"]) == (4, 2, 3)  # not E
    assert everything["mtta_s"] == pytest.approx((60 + 120) / 2)
    assert everything["mttr_s"] == pytest.approx((600 + 3600 + 300) / 3)
    assert everything["mttr_manual_s"] == pytest.approx((600 + 300) / 2)
    assert (everything["auto_resolved"], everything["manual_resolved"], everything["false_positives"]) == (1, 2, 1)
    assert everything["false_positive_share"] == pytest.approx(1 / 3)
    assert everything["false_positive_share_of_manual"] == pytest.approx(1 / 2)


def test_response_by_domain_severity_and_iso_week(review):
    assert _response(review, "domain", "query")["mttr_s"] == pytest.approx(3600)
    assert _response(review, "domain", "security")["resolved"] == 0
    high = _response(review, "severity", "high")
    assert (high["incidents"], high["mttr_s"], high["mtta_s"]) == (2, pytest.approx(450), pytest.approx(60))
    # 2 March 2026 is the Monday of ISO week 10
    assert _response(review, "week", "2026-W10")["incidents"] == 1
    assert _response(review, "week", "2026-W11")["incidents"] == 3
    assert [r["breakdown"] for r in review.response][0] == "all"


def test_noisiest_sources_rank_by_alerts(review):
    ranked = [(r["noise_rank"], r["source_id"], r["incidents"], r["alerts"]) for r in review.noise]
    assert ranked == [(1, "queue_saturation", 1, 5), (2, "job_failure_streak", 1, 3), (3, "cost_cluster_hourly", 1, 2),
                      (4, "repeated_failed_logins", 1, 1)]
    assert review.noise[0]["alert_share"] == pytest.approx(5 / 11)
    assert next(r for r in review.noise if r["source_id"] == "cost_cluster_hourly")["false_positives"] == 1


def test_cost_impact_comes_from_the_facts(review):
    impact = {r["incident_id"]: r for r in review.impact}
    job = impact["inc_a"]
    assert job["window_hours"] == 2 and job["window_cost"] == Decimal(10)  # 4 + 6; the 12:00 hour is after it
    assert job["baseline_cost"] == Decimal(1)  # (2 + 5) / 7 days
    assert job["excess_cost"] == Decimal(9)
    assert (job["job_runs"], job["failed_runs"], job["failed_run_cost"]) == (2, 1, Decimal(3))
    assert job["cost_impact"] == Decimal(9)  # the larger of the excess and the failed runs' cost
    warehouse = impact["inc_b"]
    assert warehouse["window_hours"] == 1 and warehouse["window_cost"] == Decimal(8)  # not workspace 2's w1
    assert (warehouse["queries"], warehouse["failed_queries"]) == (2, 1)
    assert warehouse["query_seconds"] == pytest.approx(61.0) and warehouse["queued_seconds"] == pytest.approx(30.0)
    assert warehouse["spilled_bytes"] == 100 and warehouse["cost_impact"] == Decimal(8)
    cluster = impact["inc_c"]
    assert (cluster["window_cost"], cluster["baseline_cost"], cluster["cost_impact"]) == (Decimal(50), Decimal(1), Decimal(49))
    assert impact["inc_d"]["cost_impact"] == Decimal(0) and impact["inc_d"]["queries"] == 0
    assert [r["incident_id"] for r in review.impact] == ["inc_c", "inc_a", "inc_b", "inc_d"]  # costliest first


def test_review_command_prints_and_ends_with_json(spark, review_lake, monkeypatch):
    from lakesentinel.cli import incidents as incidents_cli
    from lakesentinel.cli.main import app
    from lakesentinel.session import get_spark

    monkeypatch.setattr(incidents_cli, "settings", lambda: review_lake)
    monkeypatch.setattr(incidents_cli, "spark", lambda: get_spark(review_lake))
    result = CliRunner().invoke(app, ["incidents", "review", "--since", "2026-03-02", "--until", "2026-03-08", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["incident_id"] for r in payload["impact"]] == ["inc_c"]  # the first week only
    assert payload["noise"][0]["source_id"] == "cost_cluster_hourly"
    assert "noisiest sources" in result.output and "cost impact" in result.output
    bad = CliRunner().invoke(app, ["incidents", "review", "--since", "March"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in str(bad.exception)
    reversed_ = CliRunner().invoke(app, ["incidents", "review", "--since", "2026-03-09", "--until", "2026-03-02"])
    assert reversed_.exit_code != 0 and "before --since" in str(reversed_.exception)
