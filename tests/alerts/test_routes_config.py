"""routes.yaml: the shipped file loads, the tree routes as Alertmanager does, and each mistake gets one
message naming file, line, column and key."""

from __future__ import annotations

import pytest

from lakesentinel.alerts.routes import RoutesError, load_routes, parse_routes
from lakesentinel.settings import PathSettings

MINIMAL = "route:\n  receiver: a\nreceivers:\n  - name: a\n    console: {}\n"


def test_the_shipped_routes_file_loads_and_routes_as_documented():
    routes = load_routes(PathSettings().resolve("routes"))
    assert [r.id for r in routes.match({"domain": "security", "severity": "critical"})] == [
        "security-urgent", "security-feed"]
    assert [r.id for r in routes.match({"domain": "security", "severity": "low"})] == ["security-feed"]
    assert [r.id for r in routes.match({"domain": "query", "severity": "critical"})] == [
        "reliability-critical-handover", "reliability-oncall"]
    assert [r.id for r in routes.match({"domain": "platform"})] == ["root"]
    urgent = routes.routes_by_id["security-urgent"]
    assert urgent.group_wait.total_seconds() == 0 and urgent.resolve_timeout.total_seconds() == 3600  # inherited
    assert set(routes.integrations()) >= {"secops/slack", "secops/jira", "security-feed/webhook",
                                          "platform-sql-alerts/sql_alert", "console/console"}


@pytest.mark.parametrize("text, expected", [
    (MINIMAL.replace("receiver: a", "receiver: b", 1),
     "bad.yaml:2:13: error key 'route.receiver': no receiver named 'b' (receivers: a)"),
    (MINIMAL + "  - name: a\n    console: {}\n",
     "bad.yaml:6:11: error [a] key 'receivers[1].name': receiver 'a' is defined twice"),
    (MINIMAL.replace("receiver: a\n", "receiver: a\n  group_wait: soon\n", 1),
     "bad.yaml:3:15: error key 'route.group_wait': not a duration: 'soon'"),
    (MINIMAL.replace("receiver: a\n", "receiver: a\n  routes:\n    - matchers: ['severity=~(high']\n", 1),
     "bad.yaml:4:17: error key 'route.routes[0].matchers': matcher 'severity=~(high': bad regular expression"),
    (MINIMAL.replace("console: {}", "slack: {channel: x, token: xoxb-1234}"),
     "bad.yaml:5:32: error key 'receivers[0].slack.token': secrets are never written in the file"),
    (MINIMAL.replace("receiver: a\n", "receiver: a\n  recevier: b\n", 1),
     "bad.yaml:3:3: error key 'route.recevier': Extra inputs are not permitted"),
    ("route: {receiver: a}\nreceivers: [{name: a}]\n", "bad.yaml:2:13: error key 'receivers[0]': receiver 'a' has no integration"),
    (MINIMAL.replace("receiver: a\n", "receiver: a\n  group_interval: 5m\n  repeat_interval: 1m\n", 1),
     "route 'root': repeat_interval (0:01:00) is shorter than group_interval (0:05:00)"),
    ("route: [\n", "bad.yaml:2:1: error not valid YAML"),
])
def test_each_mistake_is_reported_with_where_it_is(text, expected):
    with pytest.raises(RoutesError) as err:
        parse_routes(text, "bad.yaml")
    assert expected in str(err.value)


def test_every_problem_is_reported_at_once():
    text = MINIMAL.replace("receiver: a\n", "receiver: a\n  group_wait: soon\n  group_by: 3\n", 1)
    with pytest.raises(RoutesError) as err:
        parse_routes(text, "bad.yaml")
    assert len(err.value.issues) == 2
