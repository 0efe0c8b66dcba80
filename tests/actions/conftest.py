"""Fixtures for the delivery worker: the four fake services, a routes file pointing at them, tokens in
the environment, and an outbox filled with notifications (no Spark: the worker does not need it)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from lakesentinel.notify.outbox import OUTBOX, OUTBOX_SCHEMA, outbox_row
from lakesentinel.opstables import DeltaRsTables
from lakesentinel.alerts.routes import group_hash, load_routes
from lakesentinel.settings import PathSettings
from tests.fakes.databricks import FakeDatabricks
from tests.fakes.jira import FakeJira
from tests.fakes.notifications import incident, notification
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhook

# Characters that URL-encoding, repr, JSON and base64 each write differently, so every form is distinct.
TOKENS = {
    "LS_TEST_SLACK_TOKEN": "xoxb-4242-worker/test+slack=token'1",
    "LS_TEST_JIRA_TOKEN": 'jira-worker/test+api"token\\77',
    "LS_TEST_WEBHOOK_SECRET": "whsec-worker/test+hmac=secret'99",
    "LS_TEST_DATABRICKS_TOKEN": "dapi-worker/test+databricks\\token-55",
}
JIRA_USER = "bot@example.com"

ROUTES = """
route:
  receiver: all
receivers:
  - name: all
    slack: {{channel: '#alerts', token: {{env: LS_TEST_SLACK_TOKEN}}, base_url: '{slack}'}}
    jira: {{server: '{jira}', project: SEC, issue_type: Bug, email: {user}, api_token: {{env: LS_TEST_JIRA_TOKEN}}}}
    webhook: {{url: '{webhook}/hook', secret: {{env: LS_TEST_WEBHOOK_SECRET}}}}
    sql_alert: {{host: '{databricks}', token: {{env: LS_TEST_DATABRICKS_TOKEN}}, warehouse_id: wh-1}}
delivery:
  max_attempts: {attempts}
  backoff_initial: 10ms
  backoff_max: 50ms
  timeout: {timeout}
  poll_interval: 20ms
  retry_after_max: {retry_after_max}
"""


@dataclass
class Services:
    slack: FakeSlack
    jira: FakeJira
    webhook: FakeWebhook
    databricks: FakeDatabricks

    def routes_text(self, attempts: int = 4, timeout: str = "1s", retry_after_max: str = "2m") -> str:
        return ROUTES.format(slack=self.slack.api_url, jira=self.jira.url, webhook=self.webhook.url,
                             databricks=self.databricks.url, user=JIRA_USER, attempts=attempts, timeout=timeout,
                             retry_after_max=retry_after_max)

    def clear_faults(self) -> None:
        for fake in (self.slack, self.jira, self.webhook, self.databricks):
            fake.clear_faults()


def every_form(secret: str) -> set[str]:
    """A secret as is, repr'd, JSON-escaped, URL-encoded and base64-encoded (written out here, not taken
    from the code under test)."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=""), quote(secret),
             quote_plus(secret)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms |= {encode(secret.encode()).decode(), encode(secret.encode()).decode().rstrip("=")}
    return forms


def forbidden_strings() -> list[str]:
    """Every form of every secret, and of the basic-auth credential Jira's client sends."""
    forms = set()
    for secret in [*TOKENS.values(), f"{JIRA_USER}:{TOKENS['LS_TEST_JIRA_TOKEN']}"]:
        forms |= every_form(secret)
    return sorted(forms)


@pytest.fixture
def forbidden() -> list[str]:
    return forbidden_strings()


@pytest.fixture
def tokens(monkeypatch):
    for k, v in TOKENS.items():
        monkeypatch.setenv(k, v)
    return TOKENS


@pytest.fixture
def services(tokens):
    fakes = Services(FakeSlack(TOKENS["LS_TEST_SLACK_TOKEN"]),
                     FakeJira(user=JIRA_USER, token=TOKENS["LS_TEST_JIRA_TOKEN"], cloud=True),
                     FakeWebhook(TOKENS["LS_TEST_WEBHOOK_SECRET"]),
                     FakeDatabricks(TOKENS["LS_TEST_DATABRICKS_TOKEN"]))
    for fake in (fakes.slack, fakes.jira, fakes.webhook, fakes.databricks):
        fake.start()
    yield fakes
    for fake in (fakes.slack, fakes.jira, fakes.webhook, fakes.databricks):
        fake.stop()


@pytest.fixture
def deployment(services, fresh_settings, tmp_path):
    """Settings whose routes file points at the fakes; ``write(text)`` replaces the routes file."""
    path = tmp_path / "routes.yaml"

    class Deployment:
        cfg = fresh_settings.model_copy(update={"paths": PathSettings(routes=str(path))})
        routes_file = path
        home = Path(fresh_settings.state_root).parent

        def write(self, text: str | None = None, **kw):
            path.write_text(text or services.routes_text(**kw))
            return load_routes(path)

        def env(self) -> dict[str, str]:
            """Environment for a worker in another process: same lakehouse, same routes, same tokens."""
            return {**os.environ, **TOKENS, "LAKESENTINEL_HOME": str(self.home), "LAKESENTINEL_ENV": "local",
                    "LAKESENTINEL__PATHS__ROUTES": str(path)}

    d = Deployment()
    d.write()
    return d


def fill_outbox(cfg, groups: int, kinds=("slack", "jira", "webhook"), seq: int = 1, reason: str = "firing"):
    """One notification per group and integration, as the lifecycle would append them."""
    rows = []
    for g in range(groups):
        for kind in kinds:
            n = notification(seq, reason, integration=f"all/{kind}", group_key=f"group-{g}", episode=f"inc{g:04d}",
                             incidents=[incident(g + 1, status="resolved" if reason == "resolved" else "open")])
            rows.append(outbox_row(n.model_copy(update={"group_hash": group_hash(n.group_key)})))
    tables = DeltaRsTables(cfg)
    tables.append(tables.name("ops", OUTBOX), rows, OUTBOX_SCHEMA)
    return rows


@pytest.fixture
def outbox():
    return fill_outbox
