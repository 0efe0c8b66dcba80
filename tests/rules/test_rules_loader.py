"""Rule files: every problem reported with file, line and column, and good rules still load."""

from __future__ import annotations

from lakesentinel.rules.loader import RuleLoader, load_rules
from tests.rules.conftest import write_rule

GOOD = """
id: security.good_rule
title: Good
level: low
logsource: {table: access.audit}
detection:
  sel:
    action_name: login
  condition: sel
tests:
  - name: fires
    input: [{action_name: login}]
    expect: [{}]
  - name: quiet
    input: [{action_name: logout}]
    expect: []
"""


def _issues(loader, code=None):
    return [i for i in loader.issues if code is None or i.code == code]


def test_unknown_key_points_at_the_key_and_suggests(rule_dir):
    write_rule(rule_dir, "typo", GOOD.replace("id: security.good_rule", "id: security.typo\nthresold: count(*) > 1"))
    [issue] = _issues(load_rules(rule_dir), "schema")
    assert (issue.line, issue.column) == (2, 1)
    assert "unknown key 'thresold'" in issue.message and "did you mean 'threshold'" in issue.message
    assert issue.id == "security.typo" and issue.file.endswith("typo.yaml")


def test_unknown_column_inside_an_expression_points_at_the_character(rule_dir):
    text = GOOD.replace("""  sel:
    action_name: login""", """  sel: "action_name = 'login' AND user_identity.emial = 'a'\"""")
    write_rule(rule_dir, "bad_expr", text)
    [issue] = _issues(load_rules(rule_dir), "unknown-field")
    line = text.lstrip().splitlines()[issue.line - 1]
    assert line[issue.column - 1:].startswith("user_identity.emial")
    assert "no field `emial`" in issue.message and "email" in issue.message


def test_bad_duration_and_bad_level_are_both_reported(rule_dir):
    text = GOOD.replace("level: low", "level: severe").replace("  condition: sel", "  condition: sel\nwindow: 60 min\nthreshold: count(*) > 1")
    write_rule(rule_dir, "two_errors", text)
    messages = [i.message for i in load_rules(rule_dir).issues if i.severity == "error"]
    assert any("'severe' is not one of" in m for m in messages)
    assert any("'60 min' is not a duration such as 30s" in m for m in messages)


def test_yaml_syntax_error_names_line_and_column(rule_dir):
    write_rule(rule_dir, "broken", "id: security.x\ntitle: [unclosed\n")
    [issue] = load_rules(rule_dir).issues
    assert issue.code == "yaml" and issue.line == 3


def test_a_bad_file_never_stops_the_good_ones(rule_dir):
    write_rule(rule_dir, "good", GOOD)
    write_rule(rule_dir, "bad", GOOD.replace("good_rule", "bad_rule").replace("action_name: login", "nope: login"))
    loader = load_rules(rule_dir)
    assert list(loader.rules) == ["security.good_rule"]
    assert [i.id for i in loader.issues if i.severity == "error"] == ["security.bad_rule"]


def test_duplicate_ids_across_files(rule_dir):
    write_rule(rule_dir, "a", GOOD)
    write_rule(rule_dir, "b", GOOD)
    loader = load_rules(rule_dir)
    dup = _issues(loader, "duplicate-id")
    assert len(loader.rules) == 1 and len(dup) == 1 and dup[0].file.endswith("b.yaml") and dup[0].line == 1


def test_folder_and_id_domain_must_agree(rule_dir):
    write_rule(rule_dir, "misplaced", GOOD, domain="cost")
    [issue] = _issues(load_rules(rule_dir), "domain")
    assert "'cost' folder" in issue.message


def test_several_rules_in_one_file_and_the_detectors_folder_is_not_read(rule_dir):
    second = GOOD.replace("good_rule", "second_rule")
    write_rule(rule_dir, "pack", GOOD + "---\n" + second)
    (rule_dir / "detectors").mkdir()
    (rule_dir / "detectors" / "spec.yaml").write_text("detector: not a rule\n")
    loader = load_rules(rule_dir)
    assert sorted(loader.rules) == ["security.good_rule", "security.second_rule"] and not loader.issues


def test_hot_reload_rereads_only_changed_files_and_keeps_last_good(rule_dir):
    path = write_rule(rule_dir, "good", GOOD)
    write_rule(rule_dir, "other", GOOD.replace("good_rule", "other_rule"))
    loader = RuleLoader(rule_dir)
    assert loader.refresh().added and not loader.refresh()  # nothing changed: nothing re-read
    version = loader.rules["security.good_rule"].version
    path.write_text(GOOD.lstrip().replace("level: low", "level: high"))
    changes = loader.refresh()
    assert changes.changed == [loader.display(path)]
    assert loader.rules["security.good_rule"].version != version
    path.write_text(GOOD.lstrip().replace("action_name: login", "no_such_column: login"))
    loader.refresh()
    assert loader.rules["security.good_rule"].rule.level == "high"  # the last good version keeps running
    assert any(i.code == "kept-last-good" for i in loader.issues)
    assert any(i.code == "unknown-column" for i in loader.issues)
    path.write_text("id: security.good_rule\ntitle: [unclosed\n")  # not even YAML: still keeps running
    loader.refresh()
    assert loader.rules["security.good_rule"].rule.level == "high"
    path.unlink()
    assert loader.refresh().removed and "security.good_rule" not in loader.rules


def test_a_missing_or_empty_rules_folder_is_an_error_naming_it(tmp_path):
    import pytest

    from lakesentinel.rules.issues import RulesFolderError

    with pytest.raises(RulesFolderError, match=f"{tmp_path / 'nowhere'}: no such rules file or folder"):
        RuleLoader(tmp_path / "nowhere").refresh()
    (tmp_path / "empty" / "security").mkdir(parents=True)
    with pytest.raises(RulesFolderError, match=f"{tmp_path / 'empty'}: no rule files"):
        load_rules(tmp_path / "empty")


def test_a_rules_folder_that_vanishes_keeps_the_loaded_rules_running(rule_dir):
    write_rule(rule_dir, "good", GOOD)
    loader = RuleLoader(rule_dir)
    loader.refresh()
    for f in rule_dir.rglob("*.yaml"):
        f.unlink()
    for d in sorted(rule_dir.rglob("*"), reverse=True):
        d.rmdir()
    rule_dir.rmdir()
    assert not loader.refresh() and "security.good_rule" in loader.rules
