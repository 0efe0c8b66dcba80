"""Every file a user edits is read by one YAML reader and reports one issue type: file, line, column, id, reason."""

from pathlib import Path

import pytest

from lakesentinel.alerts.routes import RoutesError, parse_routes
from lakesentinel.detectors.spec import DetectorSpecError, parse_spec
from lakesentinel.gold.facts.security import load_catalogue
from lakesentinel.issues import ConfigFileError, FileIssuesError, Issue
from lakesentinel.rules.loader import load_rules
from lakesentinel.silver.quality import load_checks
from lakesentinel.yamlpos import YamlSyntaxError, load_documents
from tests.detectors.conftest import TESTDATA

VALID_SPEC = (TESTDATA / "valid.yaml").read_text()


def _rules(tmp_path: Path, text: str) -> list[Issue]:
    (tmp_path / "r.yaml").write_text(text)
    return [i for i in load_rules([tmp_path]).issues if i.severity == "error"]


def _raised(call, *args) -> list[Issue]:
    with pytest.raises(FileIssuesError) as caught:
        call(*args)
    return caught.value.issues


def _file(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path / name


# One bad value in each kind of file, on line 2 or 3, each reported where it is.
CASES = {
    "rules": lambda t: _rules(t, "id: security.x\ntitle: x\nseverity: urgent\n"),
    "detectors": lambda t: _raised(parse_spec, VALID_SPEC.replace("domain: cost\n", "domain: costs\n"), "d.yaml"),
    "routes": lambda t: _raised(parse_routes, "route: {receiver: a}\nreceivers:\n  - {name: a, console: {}, pager: {}}\n",
                                "routes.yaml"),
    "quality": lambda t: _raised(load_checks, _file(t, "quality.yaml", "usage:\n  - {name: n, expr: 'a >', x: 1}\n")),
    "security events": lambda t: _raised(load_catalogue, _file(
        t, "security_events.yaml", "- {service: accounts, event_type: x, category: y, severity: info}\n"
                                   "- {service: accounts, event_type: x, category: y, severity: urgent}\n")),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_user_file_names_file_line_column_and_reason(tmp_path, kind):
    issues = CASES[kind](tmp_path)
    assert issues and all(isinstance(i, Issue) for i in issues)
    first = issues[0]
    assert first.file and first.line in (2, 3) and first.column >= 1 and first.message
    assert str(first).startswith(f"{first.file}:{first.line}:{first.column}: error")


@pytest.mark.parametrize("text, line", [("a: 1\na: 2\n", 2), ("a: [\n", 2), ("a: &x 1\nb: {<<: *x}\n", 2)])
def test_the_reader_refuses_what_it_cannot_place(text, line):
    with pytest.raises(YamlSyntaxError) as caught:
        load_documents(text, "f.yaml")
    assert caught.value.position.line == line


def test_a_syntax_error_in_a_config_file_is_an_issue_not_a_traceback(tmp_path):
    with pytest.raises(ConfigFileError, match=r"quality.yaml:\d+:\d+: error not valid YAML"):
        load_checks(_file(tmp_path, "quality.yaml", "usage:\n  - [\n"))
    with pytest.raises(RoutesError):
        parse_routes("route: [\n", "routes.yaml")
    with pytest.raises(DetectorSpecError):
        parse_spec("id: [\n", "d.yaml")
