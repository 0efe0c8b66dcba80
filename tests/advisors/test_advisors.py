"""The advisors over a small hand-built gold (a fortnight up to 2026-03-15): every finding below, and its
figures, can be worked out from the rows written here; then the lifecycle and the measured saving."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from tests.conftest import settings_for

T = datetime
BUILT = {"_build_id": "b", "_built_at": T(2026, 3, 16)}
FAR = T(9999, 12, 31)
NOW = T(2026, 12, 3, 12)
MONTH = 30 / 14  # totals over the 14-day window, scaled to 30 days


def _insert(spark, cfg, table, rows):
    from lakesentinel.gold.config import load_gold_settings
    from lakesentinel.gold.ddl import apply_table, table_ddl

    name = apply_table(spark, cfg, load_gold_settings(cfg), table_ddl(cfg, table))
    schema = spark.table(name).schema
    spark.createDataFrame([tuple(r.get(f.name) for f in schema.fields) for r in rows], schema).write.insertInto(name)
    return name


def _dim(key, **row):
    return {key: f"k-{row.get('warehouse_id') or row.get('job_id') or row.get('cluster_id')}", "workspace_id": "1",
            "version_time": T(2026, 1, 1), "valid_from": T(1900, 1, 1), "valid_to": FAR, "is_current": True,
            "is_deleted": False, **row}


# (warehouse, type, size, min, max, auto-stop) and its hours: (hours, queries, queued, avg clusters, peak, util, cost)
WAREHOUSES = {
    "w_queue": (("PRO", "MEDIUM", 1, 2, 5), [(10, 100, 30, 1.8, 2, 0.9, "20")]),
    "w_idle": (("PRO", "LARGE", 3, 6, 30), [(4, 10, 0, 3.0, 3, 0.5, "40"), (6, 0, 0, 3.0, 3, 0.5, "40")]),
    "w_big": (("SERVERLESS", "LARGE", 1, 4, 5), [(5, 20, 0, 0.4, 1, 0.1, "10")]),
    "w_spill": (("SERVERLESS", "SMALL", 1, 1, 5), [(2, 5, 0, 0.9, 1, 0.9, "20")]),
}


def _warehouse_hours():
    rows = []
    for wh, (_, blocks) in WAREHOUSES.items():
        h = T(2026, 3, 15) - timedelta(hours=sum(b[0] for b in blocks))  # the last hour is 23:00 on the 14th
        for n, queries, queued, avg, peak, util, cost in blocks:
            for _ in range(n):
                rows.append({"date_key": int(h.strftime("%Y%m%d")), "hour_start": h, "workspace_id": "1",
                             "warehouse_id": wh, "max_clusters": WAREHOUSES[wh][0][3], "running_seconds": 3600.0,
                             "avg_clusters": avg, "peak_clusters": peak, "utilization": util, "query_count": queries,
                             "queued_query_count": queued, "queue_ms": queued * 60_000, "list_cost": Decimal(cost), **BUILT})
                h += timedelta(hours=1)
    return rows


def _statements():
    rows = []
    for i in range(10):  # ten equal statements on w_spill, two of them spilled
        start = T(2026, 3, 14, 1, i)
        rows.append({"date_key": 20260314, "statement_id": f"s{i}", "workspace_id": "1", "warehouse_id": "w_spill",
                     "executed_by": "analyst@x.com", "start_time": start, "total_duration_ms": 60_000,
                     "total_task_duration_ms": 1_000, "spilled_local_bytes": 5_000_000 if i < 2 else 0, **BUILT})
    return rows


def _run(run_id, job, start, seconds, failed=False, cost="1", clusters=("c_job",)):
    return {"date_key": int(start.strftime("%Y%m%d")), "run_id": run_id, "workspace_id": "1", "job_id": job,
            "start_time": start, "end_time": start + timedelta(seconds=seconds), "duration_seconds": seconds,
            "is_failed": failed, "result_state": "FAILED" if failed else "SUCCEEDED",
            "termination_code": "DRIVER_ERROR" if failed else "SUCCESS", "retries": 1 if failed else 0,
            "list_cost": None if cost is None else Decimal(cost), "compute_type": "CLUSTER",
            "compute_ids": list(clusters), **BUILT}


RUNS = (
    [_run(f"ap{i}", "j_ap", T(2026, 3, 10 + i, 2), 3600, cost=None, clusters=("c_ap",)) for i in range(4)]
    + [_run(f"f{i}", "j_fail", T(2026, 3, 2 + i, 3), 300, failed=i < 4, cost="10") for i in range(10)]
    + [_run(f"e{i}", "j_slow", T(2026, 3, 2 + i, 4), 600) for i in range(4)]
    + [_run(f"r{i}", "j_slow", T(2026, 3, 10 + i, 4), 1200) for i in range(4)]
    + [_run(f"b{i}", "j_big", T(2026, 3, 12 + i, 5), 900, cost="50", clusters=("c_big",)) for i in range(2)]
    + [_run("u0", "j_untagged", T(2026, 3, 14, 23), 60, cost="7")]
)
TAGS = {"cost_center": "cc1", "team": "data"}
JOBS = {"j_ap": TAGS, "j_fail": TAGS, "j_slow": TAGS, "j_big": TAGS, "j_untagged": {}}
CLUSTERS = {"c_ap": ("UI", 4, None), "c_job": ("JOB", 2, None), "c_big": ("JOB", 16, None)}

# (hour, warehouse, job, cluster, list cost, billed hours)
COST = [
    (T(2026, 3, 10, 0), None, None, "c_ap", "55", 10.0),  # c_ap: 5.5 an hour
    (T(2026, 3, 10, 0), "w_idle", None, None, "70", 1.0),  # w_idle before acceptance: 70 in 14 days
]

# (day, table, reads, writes, last write)
TABLE_DAYS = [
    (T(2026, 2, 1), "main.sales.t_unused", 5, 0, None),
    (T(2026, 3, 14), "main.sales.t_unused", 0, 3, T(2026, 3, 14, 6)),
    *[(T(2026, 3, d), "main.sales.t_stale", 2, 1, T(2026, 3, d, 1)) for d in range(1, 11)],  # written daily until the 10th
    (T(2026, 3, 12), "main.sales.t_weekly", 1, 1, T(2026, 3, 12, 1)),  # written weekly: not late on the 15th
    (T(2026, 3, 5), "main.sales.t_weekly", 1, 1, T(2026, 3, 5, 1)),
    (T(2026, 2, 26), "main.sales.t_weekly", 1, 1, T(2026, 2, 26, 1)),
    (T(2026, 3, 14), "main.sales.t_weekly", 3, 0, None),
    (T(2026, 3, 13), "main.sales.t_stale", 4, 0, None),
    (T(2026, 3, 14), "main.sales.t_stale", 4, 0, None),
    (T(2026, 3, 14), "main.sales.t_ok", 4, 1, T(2026, 3, 14, 22)),
]


def _cost_rows(rows):
    return [{"date_key": int(h.strftime("%Y%m%d")), "hour_start": h, "workspace_id": "1", "warehouse_id": wh,
             "job_id": job, "cluster_id": cl, "list_cost": Decimal(cost), "billed_hours": billed, **BUILT}
            for h, wh, job, cl, cost, billed in rows]


@pytest.fixture(scope="module")
def advisor_lake(spark, tmp_path_factory):
    cfg = settings_for(tmp_path_factory.mktemp("advisors"))
    _insert(spark, cfg, "dim_warehouse", [
        _dim("warehouse_key", warehouse_id=wh, warehouse_name=f"{wh}-name", warehouse_type=t, warehouse_size=size,
             min_clusters=lo, max_clusters=hi, auto_stop_minutes=stop)
        for wh, ((t, size, lo, hi, stop), _) in WAREHOUSES.items()])
    _insert(spark, cfg, "fact_warehouse_utilization", _warehouse_hours())
    _insert(spark, cfg, "fact_query_execution", _statements())
    _insert(spark, cfg, "dim_job", [
        _dim("job_key", job_id=job, job_name=f"{job}-name", tags=tags, run_as_user_name="svc" if tags else None)
        for job, tags in JOBS.items()])
    _insert(spark, cfg, "dim_cluster", [
        _dim("cluster_key", cluster_id=c, cluster_name=f"{c}-name", cluster_source=src, worker_count=n,
             max_autoscale_workers=mx, worker_node_type="i3.xlarge") for c, (src, n, mx) in CLUSTERS.items()])
    _insert(spark, cfg, "fact_job_run", RUNS)
    _insert(spark, cfg, "fact_cost_hourly", _cost_rows(COST))
    _insert(spark, cfg, "fact_table_health", [
        {"date_key": int(d.strftime("%Y%m%d")), "workspace_id": "1", "table_full_name": t, "read_events": reads,
         "write_events": writes, "first_access_at": d + timedelta(hours=1), "last_access_at": d + timedelta(hours=23),
         "last_write_at": last, **BUILT} for d, t, reads, writes, last in TABLE_DAYS])
    return cfg


@pytest.fixture(scope="module")
def first_run(spark, advisor_lake):
    from lakesentinel.advisors.findings import read_findings
    from lakesentinel.advisors.run import run_advisors
    from lakesentinel.session import get_spark

    s = get_spark(advisor_lake)
    runs = run_advisors(s, advisor_lake, now=NOW)
    return runs, {(f["entity_id"], f["kind"]): f for f in read_findings(s, advisor_lake)}


def test_warehouse_findings_and_their_figures(first_run):
    _, found = first_run
    kinds = sorted(k for k in found if k[0].startswith("w_"))
    assert kinds == [("w_big", "max_clusters"), ("w_big", "oversized"), ("w_idle", "auto_stop"),
                     ("w_idle", "max_clusters"), ("w_idle", "min_clusters"), ("w_idle", "serverless"),
                     ("w_queue", "undersized"), ("w_spill", "expensive_statements"), ("w_spill", "spill_heavy")]
    cost = {k: float(f["monthly_cost_impact"]) for k, f in found.items() if f["monthly_cost_impact"] is not None}
    assert cost[("w_idle", "auto_stop")] == pytest.approx(240 * MONTH * (1 - 5 / 30), abs=1e-4)  # idle hours' cost
    assert cost[("w_idle", "min_clusters")] == pytest.approx(240 * MONTH * 2 / 3, abs=1e-4)
    assert cost[("w_idle", "serverless")] == pytest.approx((400 - 4 * 40 * 1.27) * MONTH, abs=1e-4)
    assert cost[("w_big", "oversized")] == pytest.approx(50 * MONTH / 2, abs=1e-4)
    assert cost[("w_spill", "expensive_statements")] == pytest.approx(40 * 0.5 * MONTH, abs=1e-4)
    assert found[("w_queue", "undersized")]["monthly_hours_impact"] == pytest.approx(300 / 60 * MONTH)  # 300 min queued
    assert found[("w_queue", "undersized")]["action"] == "raise max_clusters from 2 to 3"
    assert found[("w_big", "oversized")]["action"] == "resize from LARGE to MEDIUM"
    spill = json.loads(found[("w_spill", "spill_heavy")]["evidence"])
    assert spill["spill_share"] == 0.2 and [s["statement_id"] for s in spill["statements"]] == ["s0", "s1"]
    assert found[("w_idle", "auto_stop")]["entity_name"] == "w_idle-name"


def test_workflow_findings_and_their_figures(first_run):
    _, found = first_run
    kinds = sorted(k for k in found if k[0].startswith("j_"))
    assert kinds == [("j_ap", "all_purpose_compute"), ("j_big", "overprovisioned_cluster"),
                     ("j_fail", "failures_and_retries"), ("j_slow", "runtime_regression"),
                     ("j_untagged", "missing_owner_or_tags")]
    cost = {k: float(f["monthly_cost_impact"]) for k, f in found.items() if f["monthly_cost_impact"] is not None}
    assert cost[("j_ap", "all_purpose_compute")] == pytest.approx(4 * 5.5 * MONTH * (1 - 0.27), abs=1e-4)
    assert cost[("j_fail", "failures_and_retries")] == pytest.approx(40 * MONTH, abs=1e-4)
    assert cost[("j_big", "overprovisioned_cluster")] == pytest.approx(100 * MONTH * 0.3, abs=1e-4)
    assert cost[("j_untagged", "missing_owner_or_tags")] == pytest.approx(7 * MONTH, abs=1e-4)
    slow = found[("j_slow", "runtime_regression")]
    assert slow["monthly_hours_impact"] == pytest.approx(600 * 4 / 7 * 30 / 3600)
    assert float(slow["monthly_cost_impact"]) == pytest.approx(slow["monthly_hours_impact"] * 8 / 7200 * 3600, abs=1e-4)
    assert found[("j_untagged", "missing_owner_or_tags")]["title"] == "j_untagged-name: no owner, no tags cost_center, team"
    assert json.loads(found[("j_untagged", "missing_owner_or_tags")]["evidence"])["missing_tags"] == ["cost_center", "team"]


def test_table_findings(first_run):
    _, found = first_run
    assert sorted(k for k in found if k[0].startswith("main.")) == [("main.sales.t_stale", "stale"),
                                                                    ("main.sales.t_unused", "unused")]


def test_rerun_through_the_command_updates_in_place_keeps_the_lifecycle_and_measures_the_saving(
        spark, advisor_lake, first_run, monkeypatch):
    from lakesentinel.cli import advise as advise_cli
    from lakesentinel.cli.main import app
    from lakesentinel.lakehouse import Lakehouse
    from lakesentinel.session import get_spark

    s = get_spark(advisor_lake)
    monkeypatch.setattr(advise_cli, "settings", lambda: advisor_lake)
    monkeypatch.setattr(advise_cli, "spark", lambda: s)
    cli = CliRunner()
    _, found = first_run
    auto_stop = found[("w_idle", "auto_stop")]
    untagged = found[("j_untagged", "missing_owner_or_tags")]
    accept = cli.invoke(app, ["advise", "accept", auto_stop["finding_id"][:8], "--by", "finops", "--note", "will do", "--json"])
    assert accept.exit_code == 0, accept.output
    accepted = json.loads(accept.stdout.strip().splitlines()[-1])
    assert (accepted["status"], accepted["status_changed_by"]) == ("accepted", "finops")
    assert accepted["accepted_as_of"] == "2026-03-15 00:00:00"  # the data time it was detected at
    assert cli.invoke(app, ["advise", "dismiss", untagged["finding_id"]]).exit_code == 0
    missing = cli.invoke(app, ["advise", "done", "ffffffffffff"])
    assert missing.exit_code != 0 and "no finding with an id starting" in str(missing.exception)
    bad = cli.invoke(app, ["advise", "accept", "xyz"])
    assert bad.exit_code != 0 and "give the id" in str(bad.exception)
    # two days of w_idle after acceptance at 2 a day (5 a day before); j_untagged gains its tags and owner
    _insert(s, advisor_lake, "fact_cost_hourly", _cost_rows([(T(2026, 3, 15, 10), "w_idle", None, None, "2", 1.0),
                                                             (T(2026, 3, 16, 23), "w_idle", None, None, "2", 1.0)]))
    lh = Lakehouse(advisor_lake)
    s.sql(f"UPDATE {lh.name('gold', 'dim_job')} SET tags = map('cost_center', 'cc', 'team', 't'), run_as_user_name = 'o' "
          "WHERE job_id = 'j_untagged'")
    rerun = cli.invoke(app, ["advise", "--all", "--json"])
    assert rerun.exit_code == 0, rerun.output
    payload = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert [(r["advisor"], r["detected"]) for r in payload["runs"]] == [("warehouses", 9), ("tables", 2), ("workflows", 4)]
    after = {(f["entity_id"], f["kind"]): f for f in payload["findings"]}
    assert after.keys() == found.keys() and len(payload["findings"]) == len(found)  # no duplicates, nothing lost
    assert s.table(lh.name("gold", "fact_recommendation")).count() == len(found)
    kept = after[("w_idle", "auto_stop")]
    assert (kept["status"], kept["note"], kept["is_active"], kept["detection_count"]) == ("accepted", "will do", True, 1)
    assert (Decimal(kept["cost_before"]), Decimal(kept["cost_after"]), kept["days_after"]) == (70, 4, 2.0)
    assert Decimal(kept["measured_monthly_saving"]) == 90  # (70 / 14 - 4 / 2) x 30
    gone = after[("j_untagged", "missing_owner_or_tags")]
    assert (gone["status"], gone["is_active"]) == ("dismissed", False)
    assert all(f["status"] == "open" for k, f in after.items() if k not in {("w_idle", "auto_stop"), ("j_untagged", "missing_owner_or_tags")})
    assert "warehouses: 9 finding(s) over facts up to 2026-03-15 00:00:00" in rerun.output


def test_thresholds_file_errors_name_the_key(tmp_path):
    from lakesentinel.advisors.config import load_advisor_settings
    from lakesentinel.errors import ConfigError
    from lakesentinel.settings import load_settings

    path = tmp_path / "advisors.yaml"
    path.write_text("warehouses:\n  queued_share: 2\n")
    with pytest.raises(ConfigError, match=r"advisors.yaml: key 'warehouses.queued_share'"):
        load_advisor_settings(load_settings("local"), path)
    assert load_advisor_settings(load_settings("local")).warehouses.auto_stop_minutes == 10  # the shipped file
