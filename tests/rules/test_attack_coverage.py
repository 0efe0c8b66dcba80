"""The security packs against the ATT&CK techniques that apply to Databricks (`rules coverage`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from lakesentinel.cli.main import app
from lakesentinel.rules.coverage import Catalogue, coverage, load_catalogue, markdown
from tests.rules.conftest import write_rule
from tests.rules.test_rules_loader import GOOD

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _shipped_report(shipped):
    from lakesentinel.detectors.spec import load_specs
    from lakesentinel.settings import SHIPPED_DIR

    detectors = [s.id for s in load_specs(SHIPPED_DIR / "rules" / "detectors")]
    return coverage(load_catalogue(), {r.id: list(r.rule.tags) for r in shipped.rules.values()}, detectors)


def test_every_applicable_technique_is_covered_or_says_why_not(shipped):
    report = _shipped_report(shipped)
    assert report.unknown_tags == {} and report.unknown_detectors == []
    assert [r.technique.id for r in report.rows if r.status == "missing"] == []
    gaps = [r for r in report.rows if r.status == "gap"]
    assert gaps and all(len(r.technique.gap) > 20 for r in gaps)
    # The new rules each close a technique on their own.
    by_id = {r.technique.id: r.rules for r in report.rows}
    assert by_id["T1562.008"] == ["security.cloud_log_delivery_changed"]
    assert by_id["T1531"] == ["security.mass_principal_removal"]
    assert by_id["T1136.003"] == ["security.principal_created_outside_provisioning"]


def test_every_security_rule_names_a_technique(shipped):
    from lakesentinel.rules.coverage import technique_tags

    untagged = [r.id for r in shipped.rules.values() if r.rule.domain == "security" and not technique_tags(r.rule.tags)]
    # Terms-of-service changes and print statements in notebooks are compliance findings, not techniques.
    assert sorted(untagged) == ["security.terms_of_service_changes", "security.use_of_print_statements"]


def test_a_sub_technique_covers_its_parent_but_not_the_other_way():
    catalogue = Catalogue.model_validate({"tactics": ["persistence"], "techniques": [
        {"id": "T1098", "name": "Account Manipulation", "tactics": ["persistence"], "databricks": "admin grants"},
        {"id": "T1098.001", "name": "Additional Cloud Credentials", "tactics": ["persistence"], "databricks": "tokens"},
        {"id": "T1136.003", "name": "Cloud Account", "tactics": ["persistence"], "databricks": "users", "gap": "x" * 30}]})
    report = coverage(catalogue, {"a.sub": ["attack.t1098.001"], "b.parent": ["attack.T1098"],
                                  "c.stray": ["attack.t9999", "lakesentinel.finops"]}, [])
    rows = {r.technique.id: r for r in report.rows}
    assert rows["T1098"].rules == ["a.sub", "b.parent"]
    assert rows["T1098.001"].rules == ["a.sub"]
    assert rows["T1136.003"].status == "gap"
    assert report.unknown_tags == {"c.stray": ["T9999"]}
    table = markdown(report, catalogue)
    assert "| persistence | T1136.003 Cloud Account | users | not covered: " in table


def test_the_docs_show_the_current_table(shipped):
    text = DOCS.read_text()
    shown = re.search(r"<!-- coverage:start -->\n(.*)<!-- coverage:end -->", text, re.S).group(1)
    assert shown == markdown(_shipped_report(shipped), load_catalogue()), \
        "docs/rules.md is stale: paste `lakesentinel rules coverage --markdown` between the coverage markers"


def test_cli_names_the_rule_whose_tag_is_unknown(rule_dir):
    write_rule(rule_dir, "good", GOOD.replace("level: low", "level: low\ntags: [attack.t9999]"))
    result = runner.invoke(app, ["rules", "coverage", "--path", str(rule_dir), "--json"])
    assert result.exit_code == 1
    assert "tag T9999 names no technique" in result.output and "good_rule" in result.output
    report = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    assert report["unknown_tags"] == {next(iter(report["unknown_tags"])): ["T9999"]}
    assert report["covered"] + report["gap"] + report["missing"] == report["techniques"]
