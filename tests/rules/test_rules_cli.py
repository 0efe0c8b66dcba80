"""``lakesentinel rules ...``: exit codes, messages that point at the file, machine-readable output."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakesentinel.cli.main import app
from lakesentinel.rules.issues import RuleNotFoundError
from tests.rules.test_rules_loader import GOOD
from tests.rules.conftest import write_rule

runner = CliRunner()


@pytest.mark.parametrize("args", [["rules"], ["rules", "lint"], ["rules", "test"], ["rules", "backtest"],
                                  ["rules", "explain"], ["rules", "schema"], ["bench", "rules"]])
def test_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_lint_reports_every_error_with_its_place_and_fails(rule_dir):
    write_rule(rule_dir, "good", GOOD)
    write_rule(rule_dir, "bad", GOOD.replace("good_rule", "bad_rule").replace("level: low", "level: loud")
               .replace("action_name: login", "action_nme: login"))
    result = runner.invoke(app, ["rules", "lint", "--path", str(rule_dir), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rules"] == 1 and report["errors"] == 1
    [issue] = report["issues"]
    assert issue["file"].endswith("bad.yaml") and (issue["line"], issue["column"]) == (3, 8)
    assert "bad.yaml:3:8: error [security.bad_rule]" in result.output


def test_lint_passes_on_the_shipped_packs():
    result = runner.invoke(app, ["rules", "lint", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["errors"] == 0


def test_explain_shows_compiled_sql_and_fields():
    result = runner.invoke(app, ["rules", "explain", "security.repeated_access_to_secrets", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["kind"] == "threshold" and info["threshold"] == "count(DISTINCT secret) >= 10"
    assert "request_params.scope" in info["reads"] and info["series"][0]["distinct"] is True
    missing = runner.invoke(app, ["rules", "explain", "security.nope"])
    assert isinstance(missing.exception, RuleNotFoundError) and "no such rule: security.nope" in str(missing.exception)


def test_schema_is_current():
    result = runner.invoke(app, ["rules", "schema", "--check"])
    assert result.exit_code == 0, result.output


def test_rules_test_prints_pass_and_fail_per_case(spark, rule_dir):
    broken = GOOD.replace("expect: [{}]", "expect: [{severity: critical}]")
    write_rule(rule_dir, "good", broken)
    result = runner.invoke(app, ["rules", "test", "--path", str(rule_dir), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["passed"], report["failed"]) == (1, 1)
    assert "FAIL security.good_rule: fires" in result.output and "PASS security.good_rule: quiet" in result.output
