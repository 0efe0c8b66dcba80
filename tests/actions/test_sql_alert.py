"""Databricks SQL alert receiver against the fake workspace, through databricks-sdk's WorkspaceClient."""

import pytest

from lakesentinel.notify.config import SecretRef, SqlAlertConfig
from lakesentinel.actions.sql_alert import SqlAlertReceiver, display_name, query_text
from tests.fakes.databricks import FakeDatabricks
from tests.fakes.notifications import notification

TOKEN = "dapi0123456789abcdef-test"


@pytest.fixture
def workspace(monkeypatch):
    monkeypatch.setenv("TEST_DATABRICKS_TOKEN", TOKEN)
    with FakeDatabricks(TOKEN) as fake:
        yield fake


def receiver(fake, timeout=2.0, send_resolved=True):
    cfg = SqlAlertConfig(host=fake.url, token=SecretRef(env="TEST_DATABRICKS_TOKEN"), warehouse_id="wh-1",
                         send_resolved=send_resolved)
    return SqlAlertReceiver("platform/sql_alert", cfg, alerts_table="main.plt_ops.alerts", timeout=timeout)


def n(seq=1, reason="firing"):
    return notification(seq, reason, integration="platform/sql_alert")


def test_creates_query_and_alert_once_and_trashes_them_on_resolve(workspace):
    r = receiver(workspace)
    out = r.notify(n(), {})
    assert out.status == "delivered"
    [query], [alert] = workspace.active("queries"), workspace.active("alerts")
    assert out.refs == {"alert_id": alert["id"], "query_id": query["id"]}
    assert alert["query_id"] == query["id"] and alert["display_name"] == display_name(n())
    assert alert["condition"]["op"] == "GREATER_THAN"
    assert alert["condition"]["operand"]["column"]["name"] == "firing"
    assert query["warehouse_id"] == "wh-1" and "FROM main.plt_ops.alerts" in query["query_text"]
    assert "rule_id = 'security.brute_force_login'" in query["query_text"]
    assert "workspace_id = '1001'" in query["query_text"]

    assert r.notify(n(2, "repeat"), out.refs).status == "delivered"
    assert len(workspace.calls("/sql/", "POST")) == 2, "re-notify leaves the native alert to do its job"
    assert r.notify(n(3, "resolved"), out.refs).status == "delivered"
    assert workspace.active("queries") == [] and workspace.active("alerts") == []


def test_resolve_keeps_them_when_send_resolved_is_off(workspace):
    r = receiver(workspace, send_resolved=False)
    refs = r.notify(n(), {}).refs
    assert r.notify(n(2, "resolved"), refs).status == "delivered"
    assert len(workspace.active("alerts")) == 1


def test_a_query_left_by_a_failed_attempt_is_reused(workspace):
    r = receiver(workspace)
    workspace.fail(500, path="/api/2.0/sql/alerts", times=2)  # the lookup by name fails, then the create
    assert r.notify(n(), {}).status == "retryable"
    workspace.clear_faults()
    workspace.fail(500, path="/api/2.0/sql/alerts")  # this time the lookup of alerts fails first
    assert r.notify(n(), {}).status == "retryable"
    assert r.notify(n(), {}).status == "delivered"
    assert len(workspace.active("queries")) <= 1 and len(workspace.active("alerts")) == 1


def test_alert_created_but_reply_lost_is_found_by_name(workspace):
    r = receiver(workspace, timeout=1.0)
    workspace.hang(5, path="/api/2.0/sql/alerts", method="POST", after_handling=True)
    out = r.notify(n(), {})
    assert out.status == "retryable"
    workspace.clear_faults()
    found = r.find_delivered(n(), {})
    assert found.status == "delivered" and found.refs["alert_id"] == workspace.active("alerts")[0]["id"]
    assert r.find_delivered(n(), {}).refs == found.refs


@pytest.mark.parametrize("status, expected", [(429, "retryable"), (503, "retryable"), (500, "retryable"),
                                              (400, "permanent"), (403, "permanent")])
def test_status_classification_makes_one_request(workspace, status, expected):
    r = receiver(workspace)
    workspace.fail(status, path="/api/2.0/sql/alerts")
    before = len(workspace.calls("/api/2.0/sql/alerts"))
    assert r.notify(n(), {}).status == expected
    assert len(workspace.calls("/api/2.0/sql/alerts")) == before + 1, "the SDK must not retry behind the worker's back"


def test_group_without_labels_falls_back_to_its_rules():
    bare = n().model_copy(update={"group_labels": {}})
    text = query_text(bare, "plt_ops.alerts", 3600)
    assert "rule_id IN ('security.brute_force_login')" in text and "INTERVAL 3600 SECONDS" in text
    odd = n().model_copy(update={"group_labels": {"team": "it's"}})
    assert "labels['team'] = 'it\\'s'" in query_text(odd, "plt_ops.alerts", 60)


def test_the_query_is_valid_databricks_sql():
    import sqlglot

    for labels in ({"rule_id": "r", "workspace_id": "1", "team": "o'brien"}, {}):
        text = query_text(n().model_copy(update={"group_labels": labels}), "main.plt_ops.alerts", 3600)
        tree = sqlglot.parse_one(text, read="databricks")
        assert tree.find(sqlglot.exp.Table).sql("databricks") == "main.plt_ops.alerts"
