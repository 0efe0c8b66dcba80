"""From an alert row to Slack and Jira and back: the references the receivers created end up in
plt_gold.fact_incident, and a resolution updates the same Slack message and closes the same issue."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from lakesentinel.opstables import aware_rows
from lakesentinel.context import Context
from lakesentinel.alerts.record import ALERT_SCHEMA, alert_id, fingerprint
from lakesentinel.alerts.sink import write_alerts
from lakesentinel.lakehouse import Lakehouse

T0 = datetime(2026, 3, 2, 9, 0)


def alert_row(entity: str) -> dict:
    fp = fingerprint("security.brute_force_login", {"user": entity})
    start, end = T0 - timedelta(hours=1), T0
    return dict(alert_id=alert_id(fp, start, end), fingerprint=fp, kind="rule", rule_id="security.brute_force_login",
                rule_version="3", domain="security", severity="critical", title=f"Failed logins for {entity}",
                summary="30 failures in 20 minutes", workspace_id="1001", entity_type="user", entity_id=entity,
                window_start=start, window_end=end, observed=30.0, expected=5.0, score=1.0,
                evidence={"event_id": ["e1", "e2"]}, labels={"team": "secops"}, runbook_url="https://runbooks/bf",
                cost_impact=None, detected_at=T0, source_committed_at=T0, date_key=20260302)


def test_alert_to_slack_and_jira_and_the_references_back_into_fact_incident(spark, deployment, services):
    from lakesentinel.session import get_spark

    cfg = deployment.cfg
    routes = deployment.write(deployment_routes := services.routes_text().replace(
        "route:\n  receiver: all", "route:\n  receiver: all\n  group_wait: 0s\n  group_interval: 1m\n  resolve_timeout: 10m"))
    assert "group_wait: 0s" in deployment_routes
    get_spark(cfg)
    lifecycle = Context(cfg, spark=spark, routes=routes).lifecycle()
    write_alerts(spark, cfg, spark.createDataFrame(aware_rows([alert_row("ana@x.com")], ALERT_SCHEMA), ALERT_SCHEMA))
    assert lifecycle.step(T0, merge=False).notifications == 4  # slack, jira, webhook, sql_alert
    Context(cfg, routes=routes).worker(threading.Event(), sleep=lambda s: None).run(until_idle=True)
    lifecycle.step(T0 + timedelta(seconds=5), merge=True)  # reads the delivery log: references

    fact = Lakehouse(cfg).read(spark, Lakehouse(cfg).name("gold", "fact_incident")).collect()
    (row,) = fact
    (issue_key,) = services.jira.issues
    (message,) = services.slack.top_level()
    assert row["jira_key"] == issue_key and row["slack_ts"] == message["ts"] and row["slack_channel"]
    assert row["sql_alert_id"] == services.databricks.active("alerts")[0]["id"]
    assert row["external_refs"]["all/jira.key"] == issue_key and row["first_notified_at"] is not None
    assert row["labels"]["team"] == "secops" and row["runbook_url"] == "https://runbooks/bf"

    # The signal stops: auto-resolve after 10 minutes, then one resolved notification per integration.
    assert lifecycle.step(T0 + timedelta(minutes=11), merge=True).notifications == 4
    Context(cfg, routes=routes).worker(threading.Event(), sleep=lambda s: None).run(until_idle=True)
    assert len(services.slack.top_level()) == 1 and "RESOLVED" in services.slack.top_level()[0]["text"]
    assert services.jira.issues[issue_key]["status"] == "Done"
    assert services.databricks.active("alerts") == []
    (row,) = Lakehouse(cfg).read(spark, Lakehouse(cfg).name("gold", "fact_incident")).collect()
    assert row["status"] == "resolved" and row["resolved_by"] == "lakesentinel" and row["time_to_resolve_s"] == 660.0
