"""``lakesentinel incidents``: what the on-call engineer sees and does, on a real (delta-rs) lakehouse."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from lakesentinel.context import Context
from lakesentinel.clock import utcnow
from lakesentinel.alerts.commands import COMMAND_SCHEMA, COMMANDS, command_of, outcome_row
from lakesentinel.alerts.incident_queries import IncidentFilter, IncidentLookupError, find_incident, wait_for_outcome
from lakesentinel.alerts.incidents import FACT_INCIDENT_SCHEMA, Incident
from lakesentinel.alerts.lifecycle import FACT_INCIDENT
from lakesentinel.alerts.record import Alert
from lakesentinel.cli.main import app
from tests.conftest import settings_for

runner = CliRunner()


@pytest.fixture
def lake(tmp_path, monkeypatch):
    from lakesentinel import settings as settings_module

    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKESENTINEL_USER", "oncall@x.com")
    settings_module.settings.cache_clear()
    yield settings_for(tmp_path / "home")
    settings_module.settings.cache_clear()


def incident(make_alert, *, minutes_ago: int, status: str = "open", **alert) -> dict:
    now = utcnow()
    row = make_alert(**alert)
    inc = Incident.open(Alert(**row), {}, now - timedelta(minutes=minutes_ago), 3600)
    if status == "resolved":
        inc.resolve("lakesentinel", now, "signal stopped")
    elif status == "acknowledged":
        inc.acknowledge("someone@x.com", now)
    elif status == "silenced":
        inc.mute("silence:abc", now)
    return inc.fact_row()


@pytest.fixture
def seeded(lake, make_alert):
    rows = [incident(make_alert, minutes_ago=30, entity="u1", severity="high", title="logins [/red] for [bold]u1"),
            incident(make_alert, minutes_ago=5, entity="u2", severity="critical"),
            incident(make_alert, minutes_ago=50, entity="u3", severity="low", domain="cost", rule_id="cost.spike"),
            incident(make_alert, minutes_ago=90, entity="u4", severity="critical", status="resolved"),
            incident(make_alert, minutes_ago=20, entity="u5", severity="medium", status="silenced")]
    tables = Context(lake).ops_tables
    tables.append(tables.name("gold", FACT_INCIDENT), rows, FACT_INCIDENT_SCHEMA)
    return {r["entity_id"]: r for r in rows}


def invoke(*args):
    result = runner.invoke(app, ["incidents", *args])
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if "--json" in args and result.exit_code == 0 else None)


def test_list_shows_active_incidents_most_severe_first(seeded):
    result, doc = invoke("list", "--json")
    assert result.exit_code == 0, result.output
    assert [r["entity_id"] for r in doc["incidents"]] == ["u2", "u1", "u5", "u3"]
    assert doc["count"] == 4


@pytest.mark.parametrize("args, entities", [
    (["--all"], {"u1", "u2", "u3", "u4", "u5"}),
    (["--status", "resolved"], {"u4"}),
    (["--severity", "high"], {"u1", "u2"}),
    (["--domain", "cost"], {"u3"}),
    (["--rule", "cost.spike", "--all"], {"u3"}),
    (["--since", "25m"], {"u2", "u5"}),
    (["--limit", "1"], {"u2"}),
])
def test_list_filters(seeded, args, entities):
    result, doc = invoke("list", *args, "--json")
    assert result.exit_code == 0, result.output
    assert {r["entity_id"] for r in doc["incidents"]} == entities


def test_list_on_an_empty_lakehouse_says_so(lake):
    result, doc = invoke("list", "--json")
    assert result.exit_code == 0 and doc == {"count": 0, "incidents": []}
    assert "0 incident(s)" in result.output


def test_show_by_prefix_and_clear_errors(seeded):
    full = seeded["u2"]["incident_id"]
    result, doc = invoke("show", full[:8], "--json")
    assert result.exit_code == 0, result.output
    assert doc["incident"]["incident_id"] == full and doc["commands"] == [] and doc["deliveries"] == []
    assert "severity" in result.output and "critical" in result.output
    shown = runner.invoke(app, ["incidents", "show", seeded["u1"]["incident_id"]])
    assert shown.exit_code == 0 and "logins [/red] for [bold]u1" in shown.output, "titles are text, not markup"
    missing = runner.invoke(app, ["incidents", "show", "zzzz"])
    assert missing.exit_code != 0 and "no incident matches 'zzzz'" in str(missing.exception)


def test_ack_records_a_request_for_the_lifecycle(seeded, lake):
    target = seeded["u1"]
    result, doc = invoke("ack", target["incident_id"][:10], "--note", "looking", "--wait", "0", "--json")
    assert result.exit_code == 0, result.output
    assert doc["outcome"] is None and doc["by"] == "oncall@x.com" and doc["incident_id"] == target["incident_id"]
    tables = Context(lake).ops_tables
    [row] = tables.read(tables.name("ops", COMMANDS))
    assert (row["action"], row["incident_id"], row["requested_by"], row["note"]) == \
        ("ack", target["incident_id"], "oncall@x.com", "looking")
    assert "Recorded" in result.output


def test_resolve_as_a_false_positive_records_the_marker_the_review_counts(seeded, lake):
    result, doc = invoke("resolve", seeded["u1"]["incident_id"], "--false-positive", "--note", "test login",
                         "--wait", "0", "--json")
    assert result.exit_code == 0, result.output
    tables = Context(lake).ops_tables
    [row] = tables.read(tables.name("ops", COMMANDS))
    assert (row["action"], row["note"]) == ("resolve", "false positive: test login")


def test_ack_waits_for_the_lifecycle_answer(seeded, lake):
    tables = Context(lake).ops_tables
    name = tables.name("ops", COMMANDS)

    def lifecycle():  # stands in for the running lifecycle: answers the first request it sees
        for _ in range(200):
            rows = tables.read(name) if tables.version(name) is not None else []
            if rows:
                tables.append(name, [outcome_row(command_of(rows[0]), "applied", utcnow())], COMMAND_SCHEMA)
                return
            threading.Event().wait(0.05)

    helper = threading.Thread(target=lifecycle)
    helper.start()
    result, doc = invoke("resolve", seeded["u3"]["incident_id"], "--by", "finops@x.com", "--wait", "10", "--json")
    helper.join()
    assert result.exit_code == 0, result.output
    assert doc["outcome"] == "applied" and doc["by"] == "finops@x.com"
    assert "Resolved" in result.output


def test_ack_refuses_what_cannot_apply(seeded):
    done = runner.invoke(app, ["incidents", "ack", seeded["u4"]["incident_id"], "--wait", "0"])
    assert done.exit_code != 0 and "already resolved" in str(done.exception)
    acked = runner.invoke(app, ["incidents", "resolve", seeded["u4"]["incident_id"], "--wait", "0"])
    assert "already resolved" in str(acked.exception)


def test_prefix_ambiguity_lists_candidates():
    rows = [{"incident_id": "abc1", "status": "open"}, {"incident_id": "abc2", "status": "resolved"}]
    with pytest.raises(IncidentLookupError, match="matches 2 incidents: abc1 \\(open\\), abc2 \\(resolved\\)"):
        find_incident(rows, "abc")
    assert find_incident(rows, "abc2")["status"] == "resolved"


def test_filter_rejects_unknown_values():
    from lakesentinel.errors import LakeSentinelError

    with pytest.raises(LakeSentinelError, match="unknown severity 'urgent'"):
        IncidentFilter(min_severity="urgent")
    with pytest.raises(LakeSentinelError, match="unknown status closed"):
        IncidentFilter(statuses=("closed",))


def test_waiting_gives_up_at_the_deadline(lake):
    ticks = iter(range(100))
    outcome = wait_for_outcome(Context(lake).ops_tables, "nope", 3, sleep=lambda s: None, clock=lambda: next(ticks))
    assert outcome is None


def test_ack_and_resolve_through_the_running_lifecycle(spark, lake, make_alert, routes):
    """The on-call path end to end: an alert lands, the lifecycle opens an incident, ack and resolve apply."""
    from lakesentinel.opstables import aware_rows
    from lakesentinel.alerts.record import ALERT_SCHEMA
    from lakesentinel.alerts.sink import write_alerts
    from lakesentinel.session import get_spark

    get_spark(lake)
    now = utcnow()
    alert = make_alert(entity="u9", severity="critical", at=now)
    write_alerts(spark, lake, spark.createDataFrame(aware_rows([alert], ALERT_SCHEMA), ALERT_SCHEMA))
    life = Context(lake, spark=spark, routes=routes).lifecycle()
    life.step(now, merge=True)

    result, doc = invoke("list", "--json")
    assert [r["entity_id"] for r in doc["incidents"]] == ["u9"] and doc["incidents"][0]["status"] == "open"
    incident_id = doc["incidents"][0]["incident_id"]
    result, doc = invoke("ack", incident_id[:6], "--wait", "0", "--json")
    assert result.exit_code == 0, result.output
    life.step(now + timedelta(seconds=30), merge=True)
    _, doc = invoke("show", incident_id, "--json")
    assert doc["incident"]["status"] == "acknowledged" and doc["incident"]["acknowledged_by"] == "oncall@x.com"
    assert doc["incident"]["time_to_acknowledge_s"] == pytest.approx(30, abs=1)
    assert [c["outcome"] for c in doc["commands"]] == [None, "applied"]

    invoke("resolve", incident_id, "--note", "user locked", "--wait", "0")
    life.step(now + timedelta(seconds=90), merge=True)
    _, doc = invoke("show", incident_id, "--json")
    assert doc["incident"]["status"] == "resolved" and "user locked" in doc["incident"]["resolution"]
    result, doc = invoke("list", "--json")
    assert doc["count"] == 0, "resolved incidents leave the default list"


@pytest.mark.parametrize("sub", [[], ["list"], ["show"], ["ack"], ["resolve"]])
def test_help_everywhere(sub):
    result = runner.invoke(app, ["incidents", *sub, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
