"""Building receivers from routes: one per integration, secrets resolved, registered and never shown."""

import logging

import pytest

from lakesentinel.actions.console import ConsoleReceiver
from lakesentinel.actions.jira import JiraReceiver
from lakesentinel.actions.registry import Wiring, build_receivers
from lakesentinel.notify.receiver import classify_http, parse_retry_after
from lakesentinel.actions.slack import SlackReceiver
from lakesentinel.actions.sql_alert import SqlAlertReceiver
from lakesentinel.actions.webhook import WebhookReceiver
from lakesentinel.alerts.routes import parse_routes
from lakesentinel.errors import ConfigError
from lakesentinel.logs import RedactingFilter
from tests.fakes.notifications import notification
from tests.fakes.slack import FakeSlack

ROUTES = """
route: {receiver: everything}
receivers:
  - name: everything
    console: {}
    slack: {channel: '#a', token: {env: T_SLACK}, base_url: 'http://127.0.0.1:9/api/'}
    jira: {server: 'http://127.0.0.1:9', project: SEC, email: bot@x.com, api_token: {env: T_JIRA}}
    sql_alert: {host: 'http://127.0.0.1:9', token: {env: T_DBX}, warehouse_id: w}
    webhook: {url: 'http://127.0.0.1:9/hook', secret: {env: T_HOOK}}
"""
SECRETS = {"T_SLACK": "xoxb-secret-slack-111", "T_JIRA": "jira-secret-222", "T_DBX": "dapi-secret-333",
           "T_HOOK": "hook-secret-444"}


def test_one_receiver_per_integration(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    built = build_receivers(parse_routes(ROUTES), Wiring(timeout=1, alerts_table="plt_ops.alerts"))
    assert {k: type(v) for k, v in built.items()} == {
        "everything/slack": SlackReceiver, "everything/jira": JiraReceiver, "everything/sql_alert": SqlAlertReceiver,
        "everything/webhook": WebhookReceiver, "everything/console": ConsoleReceiver}


def test_every_missing_secret_is_reported_at_once(monkeypatch):
    for k in SECRETS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("T_JIRA", SECRETS["T_JIRA"])
    with pytest.raises(ConfigError) as err:
        build_receivers(parse_routes(ROUTES), Wiring(timeout=1, alerts_table="plt_ops.alerts"))
    text = str(err.value)
    assert all(name in text for name in ("T_SLACK", "T_DBX", "T_HOOK")) and "T_JIRA" not in text


def test_tokens_never_reach_logs_or_outcomes(monkeypatch, caplog):
    token = "xoxb-9876543210-never-show-me"
    monkeypatch.setenv("T_SLACK", token)
    caplog.handler.addFilter(RedactingFilter())
    with FakeSlack("xoxb-the-real-one") as slack, caplog.at_level(logging.DEBUG):
        routes = parse_routes(f"""
route: {{receiver: r}}
receivers:
  - name: r
    slack: {{channel: '#a', token: {{env: T_SLACK}}, base_url: '{slack.api_url}'}}
""")
        receiver = build_receivers(routes, Wiring(timeout=1, alerts_table="t"))["r/slack"]
        out = receiver.notify(notification(1), {})  # slack-sdk logs requests, headers included, at DEBUG
        logging.getLogger("test").error("delivery failed with token %s", token)
    assert out.status == "permanent"
    assert caplog.records, "something was logged"
    assert token not in caplog.text and token not in (out.error or "")


def test_retry_after_forms():
    assert parse_retry_after("120") == 120.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 1  # a date in the past: now
    assert classify_http(204).status == "delivered" and classify_http(418).status == "permanent"


def test_a_secret_that_cannot_be_read_is_a_config_error_not_a_traceback(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    for k in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/.databrickscfg")
    routes = parse_routes(ROUTES.replace("token: {env: T_DBX}", "token: {secret: {scope: ops, key: dbx}}"))
    with pytest.raises(ConfigError) as err:
        build_receivers(routes, Wiring(timeout=1, alerts_table="plt_ops.alerts"))
    assert "everything/sql_alert" in str(err.value) and "Traceback" not in str(err.value)
