"""Receiver secrets from a Databricks secret scope, read with databricks-sdk from a fake workspace."""

import pytest

from lakesentinel.actions.registry import Wiring, build_available
from lakesentinel.alerts.routes import parse_routes
from lakesentinel.logs import redact
from tests.fakes.databricks import FakeSecrets

ROUTES = """
route:
  receiver: console
  routes:
    - {name: secops-page, matchers: ['domain=security'], receiver: secops}
receivers:
  - name: console
    console: {}
  - name: secops
    slack: {channel: '#a', token: {secret: {key: slack-token}}, base_url: 'http://127.0.0.1:9/api/'}
    webhook: {url: 'http://127.0.0.1:9/hook', secret: {secret: {scope: siem, key: webhook-secret}}}
"""


@pytest.fixture
def workspace(monkeypatch):
    with FakeSecrets({("lakesentinel", "slack-token"): "xoxb-from-scope-777",
                      ("siem", "webhook-secret"): "hmac-from-scope-888"}) as fake:
        for k in ("DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/.databrickscfg")
        monkeypatch.setenv("DATABRICKS_HOST", fake.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", fake.token)
        yield fake


def test_secrets_come_from_the_deployments_scope_and_are_redacted(workspace, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_SECRET_SCOPE", "lakesentinel")
    built, problems = build_available(parse_routes(ROUTES), Wiring(timeout=1))
    assert not problems and set(built) == {"console/console", "secops/slack", "secops/webhook"}
    assert built["secops/webhook"].secret == "hmac-from-scope-888"
    assert "xoxb-from-scope-777" not in redact("token xoxb-from-scope-777")
    gets = [r.query for r in workspace.requests if r.path == "/api/2.0/secrets/get"]
    assert {(q["scope"][0], q["key"][0]) for q in gets} == {("lakesentinel", "slack-token"), ("siem", "webhook-secret")}


def test_a_missing_secret_names_scope_key_and_route(workspace, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_SECRET_SCOPE", "ops")  # no such scope in the workspace
    _, problems = build_available(parse_routes(ROUTES), Wiring(timeout=1))
    why = problems["secops/slack"]
    assert "scope 'ops'" in why and "'slack-token'" in why and "route secops-page" in why
    assert "secops/webhook" not in problems
    monkeypatch.delenv("LAKESENTINEL_SECRET_SCOPE")
    _, problems = build_available(parse_routes(ROUTES), Wiring(timeout=1))
    assert "LAKESENTINEL_SECRET_SCOPE is not set" in problems["secops/slack"]
