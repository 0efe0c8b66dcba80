"""The shipped packs: lint clean, every rule tested both ways, every test passing (the issue's done-when)."""

from __future__ import annotations

import yaml

from lakesentinel.alerts.record import DOMAINS
from lakesentinel.rules.model import Rule, json_schema_text
from tests.rules.conftest import RULES_ROOT


def rule_files() -> list:
    """The rule packs' files (rules/<domain>/), not the detector specs beside them."""
    return sorted(f for d in DOMAINS for f in (RULES_ROOT / d).glob("*.yaml"))

# andyweaves/system-tables-audit-logs detections 1-24 (detection-and-alerting.md 1.1) and the rule covering each.
ANDYWEAVES = {
    1: "repeated_failed_logins", 2: "changes_to_admin_users", 3: "changes_to_workspace_configuration",
    4: "data_downloads_from_control_plane", 5: "ip_access_list_failures", 6: "ip_access_list_changes",
    7: "databricks_access_to_customer_workspaces", 8: "terms_of_service_changes", 9: "account_settings_changes",
    10: "global_init_script_changes", 11: "install_library_on_all_clusters", 12: "mount_point_creation",
    13: "long_lifetime_token_generation", 14: "destructive_activities", 15: "potential_privilege_escalation",
    16: "repeated_access_to_secrets", 17: "access_to_multiple_workspaces", 18: "use_of_print_statements",
    19: "repeated_unauthorized_uc_requests", 20: "repeated_unauthorized_uc_data_requests",
    21: "high_number_of_read_writes", 22: "delta_sharing_recipients_without_ip_acls",
    23: "delta_sharing_ip_access_list_failures", 24: "delta_sharing_recipient_token_lifetime_change",
}


def test_lint_is_clean(shipped):
    """`lakesentinel rules lint` reads the same loader: no errors, no warnings."""
    assert [str(i) for i in shipped.issues] == []
    assert len(shipped.rules) == len(rule_files())


def test_packs_cover_what_the_issue_asks(shipped):
    ids = set(shipped.rules)
    assert {f"security.{name}" for name in ANDYWEAVES.values()} <= ids
    sequences = [r for r in shipped.rules.values() if r.kind == "sequence"]
    assert len(sequences) >= 3 and all(r.id.startswith("security.") for r in sequences)
    by_domain = {d: {r.source.name for r in shipped.rules.values() if r.rule.domain == d}
                 for d in ("cost", "query", "reliability")}
    assert by_domain == {"cost": {"billing.usage", "lakeflow.job_run_timeline", "compute.clusters"},
                         "query": {"query.history"}, "reliability": {"lakeflow.job_run_timeline"}}
    for rule in shipped.rules.values():
        assert any(t.expect for t in rule.rule.tests) and any(not t.expect for t in rule.rule.tests), rule.id


def test_threshold_rules_group_per_entity(shipped):
    """A second offender is never hidden behind the first: windowed security rules group by an entity."""
    for rule in shipped.rules.values():
        if rule.kind == "threshold" and rule.rule.domain == "security":
            assert rule.group_names, rule.id


def test_every_rule_file_round_trips_through_the_model():
    for path in rule_files():
        data = yaml.safe_load(path.read_text())
        rule = Rule.from_dict(data)
        assert Rule.from_dict(rule.to_dict()) == rule, path


def test_the_committed_json_schema_is_current():
    assert (RULES_ROOT / "rule.schema.json").read_text() == json_schema_text()


def test_spark_accepts_every_compiled_rule(spark, shipped):
    from lakesentinel.rules.analysis import analyze_rules

    assert analyze_rules(spark, list(shipped.rules.values())) == []


def test_rules_test_passes_on_the_shipped_packs(spark, shipped):
    """The done-when of the issue: `lakesentinel rules test` over every shipped rule, every case passing."""
    import json

    from typer.testing import CliRunner

    from lakesentinel.cli.main import app

    result = CliRunner().invoke(app, ["rules", "test", "--json"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    failures = [f"{r['rule_id']}: {r['case']}: {r['message']}" for r in report["results"] if not r["passed"]]
    assert failures == [] and result.exit_code == 0
    assert {r["rule_id"] for r in report["results"]} == set(shipped.rules) and report["untested"] == []
    assert report["cases"] >= 2 * len(shipped.rules)
