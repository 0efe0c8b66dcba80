"""``lakesentinel silences`` and ``lakesentinel routes`` from the command line, and silences declared in
routes.yaml kept in step with the audit table."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from lakesentinel.opstables import DeltaRsTables
from lakesentinel.alerts import silences
from lakesentinel.alerts.routes import parse_routes
from lakesentinel.cli.main import app

runner = CliRunner()


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("args", [["lifecycle"], ["lifecycle", "run"], ["actions"], ["actions", "worker"],
                                  ["actions", "retry"], ["actions", "dead-letters"], ["silences"], ["silences", "add"],
                                  ["silences", "list"], ["silences", "expire"], ["routes"], ["routes", "check"],
                                  ["routes", "test"]])
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_add_list_and_expire_a_silence_with_its_audit_trail(cli_home):
    added = runner.invoke(app, ["silences", "add", "rule_id=cost.idle", "workspace_id=~12.*", "--for", "3h",
                                "-c", "load test", "--json"])
    assert added.exit_code == 0, added.output
    (s,) = lines(added)
    assert s["state"] == "active" and s["created_by"] == "ana@example.com"
    assert s["matchers"] == ['rule_id="cost.idle"', 'workspace_id=~"12.*"']
    assert 3 * 3600 - 5 <= (datetime.fromisoformat(s["ends_at"]) - datetime.fromisoformat(s["starts_at"])).total_seconds() <= 3 * 3600

    listed = runner.invoke(app, ["silences", "list", "--json"])
    assert [x["silence_id"] for x in lines(listed)] == [s["silence_id"]]
    expired = runner.invoke(app, ["silences", "expire", s["silence_id"][:6], "-c", "done early"])
    assert expired.exit_code == 0, expired.output
    assert lines(runner.invoke(app, ["silences", "list", "--json"])) == []
    (old,) = lines(runner.invoke(app, ["silences", "list", "--all", "--json"]))
    assert old["state"] == "expired" and old["expired_by"] == "ana@example.com"
    t = DeltaRsTables(cli_home)
    events = sorted(t.read(t.name("ops", silences.SILENCES)), key=lambda e: e["recorded_at"])
    assert [e["event"] for e in events] == ["created", "expired"]


@pytest.mark.parametrize("args, message", [
    (["silences", "add", "severity=~(high", "-c", "x"], "bad regular expression"),
    (["silences", "add", "domain=cost", "-c", "x", "--for", "soon"], "not a duration"),
    (["silences", "add", "domain=cost", "-c", "x", "--until", "yesterday"], "--until 'yesterday'"),
    (["silences", "add", "domain=cost", "-c", "x", "--for", "1h", "--until", "2030-01-01"], "not both"),
    (["silences", "expire", "nope"], "no silence with id 'nope'"),
])
def test_silence_mistakes_are_reported_clearly(cli_home, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in str(result.exception)
    assert isinstance(result.exception, silences.SilenceError)


def test_silences_declared_in_routes_yaml_are_recorded_once_and_expired_when_removed(fresh_settings):
    tables = DeltaRsTables(fresh_settings)
    base = "route: {receiver: a}\nreceivers: [{name: a, console: {}}]\n"
    declared = base + ("silences:\n  - matchers: ['domain=cost']\n    ends_at: 2030-01-01T00:00:00Z\n"
                       "    created_by: ops@example.com\n    comment: budget freeze\n")
    now = datetime(2026, 3, 2, 9)
    recorded, expired = silences.sync_declared(tables, parse_routes(declared).silences, now)
    assert len(recorded) == 1 and expired == []
    assert silences.sync_declared(tables, parse_routes(declared).silences, now + timedelta(hours=1)) == ([], [])
    (s,) = silences.current(tables).values()
    assert s.source == "routes.yaml" and s.active(now) and s.created_by == "ops@example.com"
    recorded, expired = silences.sync_declared(tables, parse_routes(base).silences, now + timedelta(hours=2))
    assert recorded == [] and [e.silence_id for e in expired] == [s.silence_id]
    assert not silences.current(tables)[s.silence_id].active(now + timedelta(hours=3))


def test_routes_test_shows_where_an_incident_goes(cli_home):
    result = runner.invoke(app, ["routes", "test", "domain=cost", "severity=high", "rule_id=cost.x", "--json"])
    assert result.exit_code == 0, result.output
    (out,) = lines(result)
    assert [r["route"] for r in out["routes"]] == ["cost"] and out["routes"][0]["integrations"] == ["finops/slack"]
    bad = runner.invoke(app, ["routes", "test", "domain"])
    assert bad.exit_code != 0 and "not a label" in str(bad.exception)
