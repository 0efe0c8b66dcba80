"""The sink and the running lifecycle on a real lakehouse (Spark + Delta, delta-rs for ops tables)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from lakesentinel.notify.deliveries import DELIVERY_SCHEMA
from lakesentinel.notify.outbox import notification_of
from lakesentinel.context import Context
from lakesentinel.opstables import aware_rows
from lakesentinel.alerts.commands import COMMAND_SCHEMA, request_row
from lakesentinel.alerts.engine import Command
from lakesentinel.alerts.lifecycle import SILENCES, STATE_SCHEMA
from lakesentinel.alerts.record import ALERT_SCHEMA
from lakesentinel.alerts.silences import SILENCE_EVENT_SCHEMA, Silence
from lakesentinel.alerts.sink import alerts_table, write_alerts
from lakesentinel.errors import SchemaMismatchError
from lakesentinel.lakehouse import Lakehouse

@pytest.fixture
def lake(spark, fresh_settings):
    from lakesentinel.session import get_spark

    get_spark(fresh_settings)
    return fresh_settings


def frame(spark, rows):
    return spark.createDataFrame(aware_rows(rows, ALERT_SCHEMA), ALERT_SCHEMA)


def test_write_alerts_is_idempotent_per_alert_and_per_transaction(spark, lake, make_alert):
    rows = [make_alert(entity="u1"), make_alert(entity="u2")]
    write_alerts(spark, lake, frame(spark, rows + [rows[0]]))  # a duplicate within the batch
    write_alerts(spark, lake, frame(spark, rows))  # the batch replayed
    name = alerts_table(lake)
    table = Lakehouse(lake).read(spark, name)
    assert table.count() == 2
    assert spark.sql(f"SHOW TBLPROPERTIES {name}").where("key = 'delta.enableChangeDataFeed'").first()["value"] == "true"

    from delta.tables import DeltaTable

    def version():
        return DeltaTable.forName(spark, name).history(1).first()["version"]

    write_alerts(spark, lake, frame(spark, [make_alert(entity="u3")]), txn=("query-1", 7))
    v = version()
    write_alerts(spark, lake, frame(spark, [make_alert(entity="u3")]), txn=("query-1", 7))
    assert version() == v, "a replayed (app, batch) commits nothing"
    assert table.count() == 3
    assert spark.conf.get("spark.databricks.delta.write.txnAppId", None) is None


def test_write_alerts_rejects_a_frame_that_does_not_fit_naming_each_column(spark, lake, make_alert):
    df = frame(spark, [make_alert()]).drop("fingerprint").withColumn("score", F.lit("high"))
    with pytest.raises(SchemaMismatchError) as err:
        write_alerts(spark, lake, df)
    assert "`fingerprint` is missing" in str(err.value) and "`score` has type string" in str(err.value)


def test_lifecycle_reads_incrementally_notifies_once_and_merges_incidents(spark, lake, routes, make_alert, t0):
    tables = Context(lake).ops_tables
    lc = Context(lake, spark=spark, routes=routes).lifecycle()
    write_alerts(spark, lake, frame(spark, [make_alert(entity="u1"), make_alert("cost.x", domain="cost")]))
    report = lc.step(t0, merge=True)
    assert report.alerts == 2 and report.notifications == 1  # 'sec' has no group_wait; the rest wait
    outbox = tables.read(tables.name("ops", "action_outbox"))
    assert [r["integration"] for r in outbox] == ["sec/console"]
    assert notification_of(outbox[0]).incidents[0].entity_id == "u1"

    assert lc.step(t0 + timedelta(seconds=1)).alerts == 0  # nothing new: offsets hold
    lc.step(t0 + timedelta(seconds=31), merge=True)
    outbox = tables.read(tables.name("ops", "action_outbox"))
    assert sorted(r["integration"] for r in outbox) == ["cost/console", "feed/console", "sec/console"]

    fact = Lakehouse(lake).read(spark, Lakehouse(lake).name("gold", "fact_incident"))
    got = {r["rule_id"]: r for r in fact.collect()}
    assert set(got) == {"sec.failed_logins", "cost.x"}
    assert got["sec.failed_logins"]["status"] == "open" and got["sec.failed_logins"]["alert_count"] == 1
    assert got["cost.x"]["date_key"] == 20260302

    # A restart picks up from the saved state: the same alert again adds nothing, a new one counts.
    lc2 = Context(lake, spark=spark, routes=routes).lifecycle()
    write_alerts(spark, lake, frame(spark, [make_alert(entity="u1"), make_alert(entity="u1", window=1)]))
    lc2.step(t0 + timedelta(seconds=40), merge=True)
    row = fact.where("entity_id = 'u1'").first()
    assert row["alert_count"] == 2


def test_a_step_replayed_after_a_crash_appends_the_same_keys(spark, lake, routes, make_alert, t0):
    tables = Context(lake).ops_tables
    write_alerts(spark, lake, frame(spark, [make_alert()]))
    state = tables.name("ops", "alert_lifecycle_state")
    Context(lake, spark=spark, routes=routes).lifecycle().step(t0)
    # Crash before the state was committed: put the state table back to empty and step again.
    tables.overwrite(state, [], STATE_SCHEMA)
    Context(lake, spark=spark, routes=routes).lifecycle().step(t0 + timedelta(seconds=2))
    keys = [r["idempotency_key"] for r in tables.read(tables.name("ops", "action_outbox"))]
    assert len(keys) == 2 and len(set(keys)) == 1


def test_commands_silences_deliveries_and_quarantine_reach_the_fact_table(spark, lake, routes, make_alert, t0):
    tables = Context(lake).ops_tables
    lc = Context(lake, spark=spark, routes=routes).lifecycle()
    write_alerts(spark, lake, frame(spark, [make_alert(entity="u1"), make_alert(entity="u2"),
                                            make_alert(entity="u3", severity="urgent")]))
    lc.step(t0)
    by_entity = {i.entity_id: i for i in lc.engine.incidents.values()}
    assert set(by_entity) == {"u1", "u2"}
    quarantined = tables.read(tables.name("ops", "alerts_quarantine"))
    assert len(quarantined) == 1 and "severity" in quarantined[0]["reason"]

    u1, u2 = by_entity["u1"], by_entity["u2"]
    ack = Command.make("ack", u1.incident_id, "ana@x.com", "looking", t0 + timedelta(minutes=1))
    tables.append(tables.name("ops", "incident_commands"), [request_row(ack)], COMMAND_SCHEMA)
    silence = Silence.create([f"entity_id={u2.entity_id}"], None, t0 + timedelta(hours=1), "bob", "known",
                             now=t0)
    tables.append(tables.name("ops", SILENCES), [silence.created_event()], SILENCE_EVENT_SCHEMA)
    tables.append(tables.name("ops", "action_deliveries"), [{
        "idempotency_key": "k1", "integration": "sec/jira", "group_key": u1.group_keys[0], "episode": u1.incident_id,
        "event": "delivered", "attempt": 1, "at": t0 + timedelta(seconds=3), "error": None,
        "refs": {"key": "SEC-7"}, "incident_ids": [u1.incident_id], "worker": "w"}], DELIVERY_SCHEMA)
    lc.step(t0 + timedelta(minutes=2), merge=True)

    fact = {r["entity_id"]: r for r in Lakehouse(lake).read(spark, Lakehouse(lake).name("gold", "fact_incident")).collect()}
    assert fact["u1"]["status"] == "acknowledged" and fact["u1"]["acknowledged_by"] == "ana@x.com"
    assert fact["u1"]["time_to_acknowledge_s"] == 120.0
    assert fact["u1"]["jira_key"] == "SEC-7" and fact["u1"]["external_refs"]["sec/jira.key"] == "SEC-7"
    assert fact["u1"]["first_notified_at"] == t0 + timedelta(seconds=3)
    assert fact["u2"]["status"] == "silenced" and fact["u2"]["muted_by"] == f"silence:{silence.silence_id}"
    outcomes = [r for r in tables.read(tables.name("ops", "incident_commands")) if r["outcome"]]
    assert [(r["command_id"], r["outcome"]) for r in outcomes] == [(ack.command_id, "applied")]


def test_the_running_lifecycle_notifies_as_alerts_land_and_merges_facts_on_stop(spark, lake, routes, make_alert):
    import time

    from lakesentinel.alerts.lifecycle import start_lifecycle

    tables = Context(lake).ops_tables
    handle = start_lifecycle(Context(lake, spark=spark, routes=routes).lifecycle(), "1 second")
    try:
        write_alerts(spark, lake, frame(spark, [make_alert(entity="u9")]))
        outbox = tables.name("ops", "action_outbox")
        deadline = time.monotonic() + 60
        while not tables.read(outbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["integration"] for r in tables.read(outbox)] == ["sec/console"]
    finally:
        handle.stop()
    assert not handle.alive and handle.last_error is None and handle.steps >= 1
    fact = Lakehouse(lake).read(spark, Lakehouse(lake).name("gold", "fact_incident"))
    assert [r["entity_id"] for r in fact.collect()] == ["u9"]
    assert handle.lifecycle.pending_fact == {}
