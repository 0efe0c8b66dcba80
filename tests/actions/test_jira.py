"""Jira receiver against the fake Jira REST API, through the jira library."""

import pytest

from lakesentinel.notify.config import JiraConfig, SecretRef
from lakesentinel.actions.jira import JiraReceiver, fingerprint_label, group_label
from tests.fakes.jira import FakeJira
from tests.fakes.notifications import incident, notification

TOKEN = "jira-api-token-0123456789"


@pytest.fixture
def jira(monkeypatch):
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    with FakeJira(token=TOKEN) as fake:
        yield fake


def receiver(fake, timeout=2.0, **over):
    cfg = JiraConfig(**{"server": fake.url, "project": "SEC", "issue_type": "Bug", "email": fake.user,
                        "api_token": SecretRef(env="TEST_JIRA_TOKEN"), "labels": ["security"], **over})
    return JiraReceiver("secops/jira", cfg, timeout=timeout)


def test_create_comment_then_transition_on_resolve(jira):
    r = receiver(jira)
    first = r.notify(notification(1, integration="secops/jira"), {})
    assert first.status == "delivered" and first.refs == {"key": "SEC-1"}
    fields = jira.issues["SEC-1"]["fields"]
    assert fields["issuetype"] == {"name": "Bug"} and fields["priority"] == {"name": "Highest"}
    assert {"security", "lakesentinel", group_label(notification(1)), fingerprint_label(f"{1:016x}")} <= set(fields["labels"])
    assert "FIRING" in fields["summary"]

    assert r.notify(notification(2, "repeat", integration="secops/jira"), first.refs).status == "delivered"
    done = notification(3, "resolved", integration="secops/jira")
    assert r.notify(done, first.refs).status == "delivered"
    issue = jira.issues["SEC-1"]
    assert len(jira.issues) == 1 and issue["status"] == "Done"
    assert [c["body"].split("]")[0] + "]" for c in issue["comments"]] == [
        f"[lakesentinel:{notification(2, 'repeat', integration='secops/jira').idempotency_key}]",
        f"[lakesentinel:{done.idempotency_key}]"]


def test_open_issue_for_the_fingerprint_is_reused(jira):
    jira.issues["SEC-7"] = {"id": "1", "status": "In Progress", "comments": [],
                            "fields": {"project": {"key": "SEC"}, "summary": "older", "issuetype": {"name": "Bug"},
                                       "labels": [fingerprint_label(f"{1:016x}")]}}
    out = receiver(jira).notify(notification(1, integration="secops/jira"), {})
    assert out.refs == {"key": "SEC-7"} and len(jira.issues) == 1
    assert len(jira.issues["SEC-7"]["comments"]) == 1


def test_a_closed_issue_is_not_reused(jira):
    jira.issues["SEC-7"] = {"id": "1", "status": "Done", "comments": [],
                            "fields": {"project": {"key": "SEC"}, "summary": "older", "issuetype": {"name": "Bug"},
                                       "labels": [fingerprint_label(f"{1:016x}")]}}
    out = receiver(jira).notify(notification(1, integration="secops/jira"), {})
    assert out.refs["key"] != "SEC-7" and len(jira.issues) == 2


def test_priority_follows_severity(jira):
    n = notification(1, integration="secops/jira", incidents=[incident(1, severity="medium")])
    key = receiver(jira).notify(n, {}).refs["key"]
    assert jira.issues[key]["fields"]["priority"] == {"name": "Medium"}


def test_issue_created_but_reply_lost_is_found_by_jql(jira):
    r = receiver(jira, timeout=1.0)
    n = notification(1, integration="secops/jira")
    r.client  # connect first, so the hang hits the create call
    jira.hang(5, path="/rest/api/2/issue", after_handling=True)
    assert r.notify(n, {}).status == "retryable"
    jira.clear_faults()
    found = r.find_delivered(n, {})
    assert found.status == "delivered" and found.refs == {"key": "SEC-1"}
    assert len(jira.issues) == 1


def test_lost_comment_is_recognised_by_its_marker(jira):
    r = receiver(jira, timeout=1.0)
    refs = r.notify(notification(1, integration="secops/jira"), {}).refs
    again = notification(2, "update", integration="secops/jira")
    jira.hang(5, path="/comment", after_handling=True)
    assert r.notify(again, refs).status == "retryable"
    jira.clear_faults()
    assert r.find_delivered(again, refs).status == "delivered"
    assert r.find_delivered(notification(3, "repeat", integration="secops/jira"), refs) is None
    assert len(jira.issues["SEC-1"]["comments"]) == 1


@pytest.mark.parametrize("status, expected", [(429, "retryable"), (500, "retryable"), (503, "retryable"),
                                              (400, "permanent"), (403, "permanent")])
def test_status_classification(jira, status, expected):
    r = receiver(jira)
    r.client
    jira.fail(status, path="/search", retry_after=3 if status == 429 else None)
    out = r.notify(notification(1, integration="secops/jira"), {})
    assert out.status == expected and jira.issues == {}
    if status == 429:
        assert out.retry_after == 3.0


def test_server_deployment_uses_the_classic_search(jira):
    jira.cloud = False
    r = receiver(jira, token=SecretRef(env="TEST_JIRA_TOKEN"), email=None, api_token=None)
    assert r.notify(notification(1, integration="secops/jira"), {}).refs == {"key": "SEC-1"}
    assert jira.calls("/rest/api/2/search") and not jira.calls("/search/jql")


def test_a_deleted_issue_is_replaced(jira):
    r = receiver(jira)
    refs = r.notify(notification(1, integration="secops/jira"), {}).refs
    del jira.issues[refs["key"]]
    out = r.notify(notification(2, "repeat", integration="secops/jira"), refs)
    assert out.status == "delivered" and out.refs["key"] != refs["key"] and len(jira.issues) == 1


def test_the_basic_auth_header_form_is_masked_too(jira):
    import base64

    from lakesentinel.logs import redact

    receiver(jira)
    header = base64.b64encode(f"{jira.user}:{TOKEN}".encode()).decode()
    assert redact(f"request headers = {{'Authorization': 'Basic {header}'}}") == "request headers = {'Authorization': 'Basic ***'}"
