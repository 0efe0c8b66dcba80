"""The engine on micro-batches: alert records, per-group windows, replay, restart, hot reload, isolation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pyspark.sql import functions as F

from lakesentinel.alerts.record import ALERT_SCHEMA, alert_id_col, fingerprint_col
from lakesentinel.rules.engine import RuleEngine
from tests.rules.conftest import T0, batch, failed_logins, write_rule

BURST = """
id: security.burst
title: Failed login burst
level: medium
logsource: {table: access.audit}
detection:
  failed:
    action_name: login
    response.status_code: 401
  condition: failed
group_by: [user]
window: 60m
threshold: count(*) > 5
"""
ONE_BY_ONE = """
id: security.admin_change
title: Admin change
level: high
logsource: {table: access.audit}
detection:
  sel:
    action_name: setAdmin
  condition: sel
"""
FIXED = datetime(2030, 1, 1, tzinfo=timezone.utc)


def engine(spark, cfg, rule_dir, **kw):
    return RuleEngine(spark, cfg, paths=[rule_dir], clock=lambda: FIXED, **kw)


def test_alert_records_follow_the_contract(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    eng = engine(spark, fresh_settings, rule_dir)
    committed = datetime(2026, 3, 2, 10, 20, 5, tzinfo=timezone.utc)
    df = eng.evaluate("access.audit", batch(spark, "access.audit", failed_logins("a@x.com", 8), commit=committed),
                      batch_id=0, query_id="q")
    assert df.schema == ALERT_SCHEMA
    [row] = df.collect()
    assert (row.rule_id, row.kind, row.domain, row.severity, row.entity_type, row.entity_id) == \
        ("security.burst", "rule", "security", "medium", "user", "a@x.com")
    assert (row.observed, row.expected, row.date_key) == (8.0, 5.0, 20260302)
    assert row.window_start == datetime(2026, 3, 2, 10, 0) and row.window_end == datetime(2026, 3, 2, 11, 0)
    assert row.source_committed_at == committed.replace(tzinfo=None)
    assert len(row.evidence["event_id"]) == 8 and row.rule_version.startswith("1.")
    # The ids are the ones the Spark twins of the contract compute.
    check = df.select(fingerprint_col("security.burst", {"user": F.lit("a@x.com")}).alias("fp"),
                      alert_id_col(F.col("fingerprint"), F.col("window_start"), F.col("window_end")).alias("id"),
                      "fingerprint", "alert_id").first()
    assert (check.fp, check.id) == (check.fingerprint, check.alert_id)


def test_each_user_has_its_own_window_and_bursts_straddling_the_hour_fire(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    eng = engine(spark, fresh_settings, rule_dir)
    straddling = T0 + timedelta(minutes=50)  # 10:50 .. 11:10
    rows = failed_logins("a@x.com", 10, straddling, timedelta(minutes=2)) + failed_logins("b@x.com", 7, T0)
    rows += failed_logins("c@x.com", 5, T0)  # at the threshold, not over it
    alerts = eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=0, query_id="q")
    assert sorted((a["entity_id"], a["observed"]) for a in alerts) == [("a@x.com", 10.0), ("b@x.com", 7.0)]


def test_micro_batches_give_the_same_alert_ids_as_one_batch(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    rows = failed_logins("a@x.com", 12, T0, timedelta(minutes=3))
    whole = engine(spark, fresh_settings, rule_dir, durable=False)
    once = whole.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=0, query_id="q")
    split = engine(spark, fresh_settings, rule_dir, durable=False)
    pieces = []
    for i in range(0, 12, 4):
        pieces += split.evaluate_records("access.audit", batch(spark, "access.audit", rows[i:i + 4]), batch_id=i,
                                         query_id="q")
    assert [a["alert_id"] for a in pieces] == [a["alert_id"] for a in once]
    assert pieces[0]["observed"] == 8.0 and once[0]["observed"] == 12.0  # as known when it fired vs whole window


def test_replayed_batch_counts_once_and_keeps_its_alert_ids(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    eng = engine(spark, fresh_settings, rule_dir)
    first = batch(spark, "access.audit", failed_logins("a@x.com", 6, T0))
    a1 = eng.evaluate_records("access.audit", first, batch_id=7, query_id="q")
    a2 = eng.evaluate_records("access.audit", first, batch_id=7, query_id="q")  # the same batch after a crash
    assert [a["alert_id"] for a in a1] == [a["alert_id"] for a in a2] and len(a1) == 1
    rs = eng.store.rules["security.burst"]
    [group] = rs.groups.values()
    assert sum(stat[0] for buckets in group.series.values() for values in buckets.values()
               for stat in values.values()) == 6


def test_state_survives_a_restart_and_a_replay_after_it(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    before = engine(spark, fresh_settings, rule_dir)
    assert before.evaluate_records("access.audit", batch(spark, "access.audit", failed_logins("a@x.com", 3, T0)),
                                   batch_id=0, query_id="q") == []
    second = batch(spark, "access.audit", failed_logins("a@x.com", 3, T0 + timedelta(minutes=10)))
    fired = before.evaluate_records("access.audit", second, batch_id=1, query_id="q")
    assert [a["observed"] for a in fired] == [6.0]
    # The process dies before the alerts are written; the stream replays batch 1 into a new engine.
    after = engine(spark, fresh_settings, rule_dir)
    again = after.evaluate_records("access.audit", second, batch_id=1, query_id="q")
    assert [(a["alert_id"], a["observed"]) for a in again] == [(fired[0]["alert_id"], 6.0)]
    # And the next batch continues the same window without counting batch 1 twice (no new alert: suppressed).
    third = batch(spark, "access.audit", failed_logins("a@x.com", 1, T0 + timedelta(minutes=30)))
    assert after.evaluate_records("access.audit", third, batch_id=2, query_id="q") == []
    [group] = after.store.rules["security.burst"].groups.values()
    assert sum(s[0] for b in group.series.values() for v in b.values() for s in v.values()) == 7


def test_late_rows_are_dropped_and_old_state_is_pruned(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "burst", BURST)
    eng = engine(spark, fresh_settings, rule_dir, durable=False)
    eng.evaluate_records("access.audit", batch(spark, "access.audit", failed_logins("a@x.com", 2, T0)),
                         batch_id=0, query_id="q")
    later = T0 + timedelta(hours=5)
    rows = failed_logins("b@x.com", 2, later) + failed_logins("a@x.com", 3, T0 + timedelta(hours=1))
    assert eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=1, query_id="q") == []
    assert eng.last.late_rows == 0  # an hour after the previous batch's newest row: within the allowed lateness
    groups = eng.store.rules["security.burst"].groups
    assert list(groups) == ['["b@x.com"]']  # a's windows can no longer receive rows: pruned
    very_late = failed_logins("a@x.com", 9, T0 + timedelta(hours=2))
    assert eng.evaluate_records("access.audit", batch(spark, "access.audit", very_late), batch_id=2,
                                query_id="q") == []
    assert eng.last.late_rows == 9


def test_hot_reload_and_rule_versions_in_alerts(spark, fresh_settings, rule_dir):
    path = write_rule(rule_dir, "admin", ONE_BY_ONE)
    eng = engine(spark, fresh_settings, rule_dir)
    rows = [{"action_name": "setAdmin", "user_identity": {"email": "x@x.com"}}]
    [a] = eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=0, query_id="q")
    path.write_text(path.read_text().replace("level: high", "level: critical"))
    [b] = eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=1, query_id="q")
    assert (a["severity"], b["severity"]) == ("high", "critical") and a["rule_version"] != b["rule_version"]
    path.write_text(path.read_text().replace("action_name: setAdmin", "action_nam: setAdmin"))
    [c] = eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=2, query_id="q")
    assert c["rule_version"] == b["rule_version"]  # the broken edit is reported; the last good rule runs
    assert {i.code for i in eng.issues} >= {"unknown-column", "kept-last-good"}


def test_a_rule_failing_at_run_time_is_quarantined_and_the_others_run(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "admin", ONE_BY_ONE)
    write_rule(rule_dir, "bad_regex", ONE_BY_ONE.replace("security.admin_change", "security.bad_regex")
               # A group the pattern lacks: the checks and Spark's analysis pass; the row that matches fails.
               .replace("  sel:\n    action_name: setAdmin", "  sel: \"regexp_extract(action_name, 'set(Admin)', 3) = 'x'\""))
    eng = engine(spark, fresh_settings, rule_dir)
    rows = [{"action_name": "setAdmin", "user_identity": {"email": "x@x.com"}}]
    alerts = eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=0, query_id="q")
    assert [a["rule_id"] for a in alerts] == ["security.admin_change"]
    assert list(eng.quarantined) == ["security.bad_regex"]
    assert any(i.code == "runtime" and i.id == "security.bad_regex" for i in eng.issues)


def test_sources_without_rules_cost_nothing(spark, fresh_settings, rule_dir):
    write_rule(rule_dir, "admin", ONE_BY_ONE)
    eng = engine(spark, fresh_settings, rule_dir)
    assert eng.sources() == ["access.audit"]
    df = eng.evaluate("billing.usage", spark.range(0), batch_id=0, query_id="q")  # the batch is never read
    assert df.schema == ALERT_SCHEMA and eng.last.rules == 0


def test_a_quarantine_is_recorded_and_rules_lint_reports_it(spark, base_settings, rule_dir):
    from lakesentinel.opstables import DeltaRsTables
    from lakesentinel.rules.quarantine import QUARANTINE, quarantined_issues

    write_rule(rule_dir, "admin", ONE_BY_ONE)
    write_rule(rule_dir, "bad_regex", ONE_BY_ONE.replace("security.admin_change", "security.bad_regex_recorded")
               .replace("  sel:\n    action_name: setAdmin", "  sel: \"regexp_extract(action_name, 'set(Admin)', 3) = 'x'\""))
    tables = DeltaRsTables(base_settings)
    eng = engine(spark, base_settings, rule_dir, ops_tables=tables)
    rows = [{"action_name": "setAdmin", "user_identity": {"email": "x@x.com"}}]
    eng.evaluate_records("access.audit", batch(spark, "access.audit", rows), batch_id=5, query_id="q")
    [row] = [r for r in tables.read(tables.name("ops", QUARANTINE)) if r["rule_id"] == "security.bad_regex_recorded"]
    assert row["batch_id"] == 5 and row["source"] == "access.audit" and "Spark could not evaluate it" in row["reason"]
    [issue] = quarantined_issues(tables, eng.loader.rules.values())
    assert issue.code == "quarantined" and issue.file.endswith("bad_regex.yaml")
    # What `rules lint` adds to its issues (cli/rules.py _quarantined): gone once the file changes.
    (rule_dir / "security" / "bad_regex.yaml").write_text((rule_dir / "security" / "bad_regex.yaml").read_text()
                                                          .replace("level: high", "level: medium"))
    eng.refresh()
    assert quarantined_issues(tables, eng.loader.rules.values()) == [], "a new version is no longer reported"
