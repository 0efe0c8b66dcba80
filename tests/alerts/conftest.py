"""Fixtures for the lifecycle: routes written inline, alerts built from a few fields, and a timeline
that steps the engine second by second in simulated time (microseconds of wall time per hour)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lakesentinel.alerts.engine import Command, Engine
from lakesentinel.alerts.record import alert_id, fingerprint
from lakesentinel.alerts.routes import parse_routes

T0 = datetime(2026, 3, 2, 9, 0)

ROUTES = """
route:
  receiver: default
  group_by: [rule_id, workspace_id]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  resolve_timeout: 10m
  routes:
    - name: sec
      matchers: ['domain=security']
      receiver: sec
      group_wait: 0s
      group_interval: 1m
      continue: true
    - name: sec-feed
      matchers: ['domain=security']
      receiver: feed
      group_by: ['...']
    - name: cost
      matchers: ['domain=cost']
      receiver: cost
inhibit_rules:
  - source_matchers: ['severity=critical']
    target_matchers: ['severity=~info|low|medium|high']
    equal: [workspace_id, entity_type, entity_id]
receivers:
  - {name: default, console: {}}
  - {name: sec, console: {}}
  - {name: feed, console: {}}
  - {name: cost, console: {send_resolved: false}}
"""


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    """A scratch lakehouse for CLI tests, with the full routing tree (Slack, Jira, SQL alerts,
    webhooks) rather than the console-only local one."""
    from lakesentinel import settings as settings_module

    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    monkeypatch.setenv("LAKESENTINEL__PATHS__ROUTES", "config/routes.yaml")
    monkeypatch.setenv("LAKESENTINEL_USER", "ana@example.com")
    monkeypatch.setenv("COLUMNS", "200")
    settings_module.settings.cache_clear()
    yield settings_module.settings()
    settings_module.settings.cache_clear()


@pytest.fixture
def routes():
    return parse_routes(ROUTES, "test-routes.yaml")


def build_alert(rule_id: str = "sec.failed_logins", *, entity: str = "u1", workspace: str = "ws1",
               domain: str = "security", severity: str = "high", window: int = 0, at: datetime = T0,
               **extra) -> dict:
    """An alert row as the lifecycle reads it from plt_ops.alerts; ``window`` picks the hour it covers."""
    fp = fingerprint(rule_id, {"workspace_id": workspace, "entity_id": entity})
    start = T0 + timedelta(hours=window)
    end = start + timedelta(hours=1)
    row = dict(alert_id=alert_id(fp, start, end), fingerprint=fp, kind="rule", rule_id=rule_id, rule_version="1",
               domain=domain, severity=severity, title=f"{rule_id} on {entity}", summary="", workspace_id=workspace,
               entity_type="user", entity_id=entity, window_start=start, window_end=end, observed=5.0,
               expected=1.0, score=1.0, evidence={}, labels={}, runbook_url=None, cost_impact=None,
               detected_at=at, source_committed_at=at, date_key=int(start.strftime("%Y%m%d")))
    row.update(extra)
    return row


class Timeline:
    """Steps an engine one tick at a time; records (seconds since T0, notification)."""

    def __init__(self, routes, tick: float = 1.0):
        self.engine = Engine(routes)
        self.now = T0
        self.tick = timedelta(seconds=tick)
        self.sent = []
        self.results = []
        self.silences = None
        self.window = 0  # the hour of the latest pushed alert: each push is a new firing

    @property
    def t(self) -> float:
        return (self.now - T0).total_seconds()

    def step(self, alerts=(), commands=(), deliveries=()):
        result = self.engine.step(self.now, alerts=alerts, commands=commands, silences=self.silences,
                                  deliveries=deliveries)
        self.results.append(result)
        self.sent.extend((self.t, n) for n in result.notifications)
        return result

    def run_until(self, seconds: float, alerts_every: float | None = None, alert_factory=None):
        """Step to ``seconds`` after T0; optionally push a fresh alert every ``alerts_every`` seconds."""
        next_push = self.t + alerts_every if alerts_every else None
        while self.t < seconds:
            self.now += self.tick
            alerts = []
            if next_push is not None and self.t >= next_push:
                self.window += 1
                alerts = [(alert_factory or build_alert)(window=self.window, at=self.now)]
                next_push += alerts_every
            self.step(alerts)

    def ack(self, incident_id: str, by: str = "oncall@x.com"):
        return self.step(commands=[Command.make("ack", incident_id, by, "", self.now)])

    def resolve(self, incident_id: str, by: str = "oncall@x.com", note: str = ""):
        return self.step(commands=[Command.make("resolve", incident_id, by, note, self.now)])

    def to(self, receiver: str):
        return [(t, n) for t, n in self.sent if n.receiver == receiver]


@pytest.fixture
def timeline(routes):
    return Timeline(routes)


@pytest.fixture
def new_timeline(routes):
    return lambda: Timeline(routes)


@pytest.fixture
def t0():
    return T0


@pytest.fixture
def make_alert():
    return build_alert
