"""Hostile rule expressions: every sqlglot node type judged by name, caps instead of RecursionError,
patterns that cannot backtrack for ever, Java's syntax check, and the batch budget's quarantine."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from lakesentinel.rules import expressions as E
from lakesentinel.rules.analysis import analyze_rules, reason
from lakesentinel.rules.compiler import source_scope
from lakesentinel.rules.engine import RuleEngine
from lakesentinel.rules.functions import names as function_names
from lakesentinel.rules.loader import load_file, load_rules
from lakesentinel.rules.logsources import logsource
from lakesentinel.rules.patterns import like_problems, regex_problems
from lakesentinel.rules.validators import make_validators
from tests.rules.conftest import write_rule

AUDIT = source_scope(logsource("access.audit"))


def problems(text, scope=AUDIT):
    with pytest.raises(E.ExpressionProblems) as exc:
        E.check(text, scope, boolean=True)
    return [(p.code, p.message) for p in exc.value.problems]


def every_expression_type() -> list[type]:
    seen, todo = set(), [exp.Expression]
    while todo:
        kind = todo.pop()
        for sub in kind.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    seen |= {v for v in vars(exp).values() if inspect.isclass(v) and issubclass(v, exp.Expression)}
    return sorted(seen, key=lambda k: k.__name__)


def test_every_sqlglot_expression_type_is_allowed_or_refused_by_name():
    kinds = every_expression_type()
    assert len(kinds) > 800  # sqlglot's whole vocabulary, not a sample
    allowed = []
    for kind in kinds:
        verdict, how = E.classify(kind)
        if verdict == "allowed":
            assert callable(getattr(E._Checker, how, None)), f"{kind.__name__}: no checker method {how!r}"
            allowed.append(kind)
            continue
        assert verdict == "refused" and how, kind
        # A refused node is refused wherever it appears, however empty.
        checker = E._Checker(AUDIT)
        checker.visit(kind())
        assert checker.problems and checker.problems[0].code in ("refused", "function", "aggregate"), kind
    # The allowed set is small and deliberate: the operators the checker knows and the listed functions.
    assert len(allowed) < 120 and exp.Select not in allowed and exp.Anonymous in allowed


@pytest.mark.parametrize("text", [
    "lower(x -> reflect('java.lang.Runtime', 'getRuntime')) = 'a'",
    "action_name IS (SELECT max(action_name) FROM plt_ops.alerts)",
    "coalesce(action_name, (SELECT 'x')) = 'a'",
    "CASE WHEN action_name = 'a' THEN (SELECT 1) END = 1",
    "action_name IN (SELECT action_name FROM plt_ops.alerts)",
    "transform(split(action_name, ','), x -> java_method('java.lang.System', 'exit', 0)) IS NULL",
])
def test_holes_in_the_allow_list_are_closed(text):
    assert problems(text), text


@pytest.mark.parametrize("text, code", [
    ("(" * 60 + "action_name = 'a'" + ")" * 60, "too-deep"),
    (" OR ".join(["action_name = 'a'"] * 600), "too-large"),
    (" OR ".join(["true"] * 400), "too-large"),
    ("NOT " * 700 + "true", "too-deep"),
])
def test_huge_or_deep_expressions_are_refused_with_a_reason(text, code):
    assert code in [c for c, _ in problems(text)]


def test_a_rule_file_with_a_deep_expression_names_file_line_and_rule(tmp_path):
    path = tmp_path / "security" / "deep.yaml"
    path.parent.mkdir()
    path.write_text("id: security.deep\ntitle: deep\nlevel: low\nlogsource: {table: access.audit}\n"
                    "detection:\n  sel: \"" + "(" * 60 + "action_name = 'a'" + ")" * 60 + "\"\n"
                    "  condition: sel\n")
    result = load_file(path, make_validators(), "rules/security/deep.yaml")
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.file, issue.line, issue.id, issue.code) == \
        ("rules/security/deep.yaml", 6, "security.deep", "too-deep")
    assert not result.rules


@pytest.mark.parametrize("pattern, why", [
    ("(a+)+b", "nested quantifiers"),
    ("(x*y*)*z", "nested quantifiers"),
    ("(a|ab)*c", "repeated alternation"),
    ("(\\w+)\\1", "backreferences"),
    ("admin(?=123)", "lookahead"),
    ("(?<!svc)-bot", "lookbehind"),
    ("(?P<user>\\w+)", "Python-only"),
    ("a{,3}", "Python-only"),
    ("x" * 600, "characters long"),
    (".*a.*b.*c.*d.*e", "unbounded repeats"),
    ("[a-", "not a valid regular expression"),
])
def test_regexes_that_can_backtrack_or_mean_something_else_in_java_are_refused(pattern, why):
    assert any(why in p for p in regex_problems(pattern)), regex_problems(pattern)


@pytest.mark.parametrize("pattern", ["^svc-[a-z0-9]+$", "(foo|bar)+", "(\\d{1,3}\\.){3}\\d{1,3}", "(?i)^admin",
                                     "(?<user>[a-z]+)@corp\\.com"])
def test_ordinary_regexes_pass(pattern):
    assert regex_problems(pattern) == []


def test_every_place_a_regex_or_like_pattern_enters_is_checked(tmp_path):
    assert ("pattern", ) == tuple({c for c, _ in problems("action_name RLIKE '(a+)+$'")})
    assert "pattern" in [c for c, _ in problems("regexp_extract(action_name, '(?=x)', 0) = 'a'")]
    assert "pattern" in [c for c, _ in problems("size(split(action_name, '(a|a)*')) > 1")]
    assert "pattern" in [c for c, _ in problems("action_name LIKE '%a%b%c%d%e%'")]
    assert "pattern" in [c for c, _ in problems("action_name LIKE service_name")]  # cannot be checked
    assert like_problems("%a%b%") == [] and like_problems("%a%b%c%d%")
    path = tmp_path / "security" / "re.yaml"
    path.parent.mkdir()
    path.write_text("id: security.re\ntitle: re\nlevel: low\nlogsource: {table: access.audit}\ndetection:\n"
                    "  sel:\n    action_name|re: '(a+)+b'\n  wild:\n    action_name: '*a*b*c*d*e*'\n"
                    "  condition: sel or wild\n")
    issues = [i for i in load_file(path, make_validators(), "re.yaml").issues if i.severity == "error"]
    assert [(i.code, i.line) for i in issues] == [("pattern", 7), ("pattern", 9)]


def test_java_compiles_each_pattern_where_a_session_exists(spark, rule_dir):
    # Python reads (?<a_b>...) as a named group; Java refuses the underscore: only Java can tell.
    write_rule(rule_dir, "java", """
        id: security.java
        title: java
        level: low
        logsource: {table: access.audit}
        detection:
          sel:
            action_name|re: '(?<a_b>login)'
          condition: sel
        """)
    loader = load_rules([rule_dir])
    assert list(loader.rules) == ["security.java"]
    [issue] = analyze_rules(spark, list(loader.rules.values()))
    assert issue.code == "pattern" and issue.id == "security.java" and "(?<a_b>login)" in issue.message
    assert "regexp" in issue.message  # Spark's reason, not an empty one


def test_a_reason_is_never_empty():
    assert reason(ValueError("")) == "ValueError, with no message"
    assert reason(RuntimeError("\n  first line\nsecond")) == "first line second (RuntimeError)"


# ---- property tests: whatever the text, the checker answers with problems or a safe expression --------
NAMES = st.sampled_from(["action_name", "service_name", "user", "ip", "response.status_code", "request_params.x",
                         "event_time", "no_such", "x", "audit_level", "user_identity.email"])
LITERALS = st.one_of(st.integers(-5, 500).map(str), st.sampled_from(["'a'", "'%x%'", "NULL", "TRUE", "1.5",
                                                                    "'2026-01-01'", "'(a+)+'"]))
FUNCTIONS = st.sampled_from(["lower", "upper", "coalesce", "length", "reflect", "java_method", "rand", "count",
                             "size", "split", "regexp_extract", "concat", "abs", "from_json", "exists",
                             "transform", "cidr_match", "current_timestamp", "try_divide", "map_keys"])


def _combine(children):
    binary = st.tuples(children, st.sampled_from([" = ", " AND ", " OR ", " + ", " / ", " < ", " LIKE ", " RLIKE ",
                                                  " IS ", " || ", " <=> ", " IN "]), children)
    return st.one_of(
        binary.map(lambda t: f"{t[0]}{t[1]}{t[2]}" if t[1] != " IN " else f"{t[0]} IN ({t[2]})"),
        st.tuples(FUNCTIONS, st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        children.map(lambda c: f"({c})"), children.map(lambda c: f"NOT {c}"),
        children.map(lambda c: f"CAST({c} AS STRING)"), children.map(lambda c: f"x -> {c}"),
        children.map(lambda c: f"(SELECT {c} FROM t)"), children.map(lambda c: f"CASE WHEN {c} THEN 1 END"),
    )


EXPRESSIONS = st.recursive(st.one_of(NAMES, LITERALS), _combine, max_leaves=12)
ALLOWED_CALLS = set(function_names()) | {"try_add", "try_subtract", "try_multiply", "try_mod", "try_element_at",
                                         "try_cast", "regexp_extract", "if"}


def _safe(sql: str) -> None:
    import sqlglot

    tree = sqlglot.parse_one(sql, read="spark")
    assert not list(tree.find_all(exp.Select, exp.Table, exp.Subquery, exp.Star))
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            assert node.name.lower() in ALLOWED_CALLS, node.sql()
        elif not type(node).__name__.startswith(("Safe", "Try")):  # the checker's own try_ rewrites
            assert E.classify(type(node))[0] == "allowed", node.sql()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_generated_expressions_are_checked_or_refused_never_crash(text):
    try:
        checked = E.check(text, AUDIT)
    except E.ExpressionProblems as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    _safe(checked.sql)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_checked_or_refused_never_crash(text):
    try:
        checked = E.check(text, AUDIT)
    except E.ExpressionProblems as exc:
        assert all(p.message for p in exc.problems)
        return
    _safe(checked.sql)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()[]|*+?{},.^$\\ab-:=!<>PZ0123", max_size=40))
def test_regex_checks_never_crash(pattern):
    assert all(isinstance(p, str) and p for p in regex_problems(pattern))


# ---- the batch budget: a rule slow on every row is cancelled, quarantined and recorded; the batch lands ----
SLOW_AGENT = """
id: security.slow_agent
title: Agent pattern
level: low
logsource: {table: access.audit}
detection:
  sel:
    user_agent|re: '.*a.*a.*z'
  condition: sel
"""
ADMIN = SLOW_AGENT.replace("security.slow_agent", "security.admin_set").replace("user_agent|re: '.*a.*a.*z'",
                                                                             "action_name: setAdmin")


def test_a_rule_over_the_batch_budget_is_quarantined_recorded_and_the_batch_lands(spark, base_settings, rule_dir):
    # The pattern passes every static check, but each of these user agents (120 'a's, no 'z') costs
    # Java's matcher about a tenth of a second (minutes for the batch): the combined job overruns a 10 s
    # budget (wide enough for the fast rule alone on a loaded machine), is cancelled (tasks stop
    # between rows; the shuffle puts the costly filter in an adaptive stage of its own), the rules are
    # run one by one, the slow one is cancelled again and quarantined. Uncancelled, it would finish.
    from typer.testing import CliRunner

    from lakesentinel.cli.main import app
    from lakesentinel.opstables import DeltaRsTables
    from lakesentinel.rules.quarantine import QUARANTINE, quarantined_issues
    from tests.rules.conftest import batch

    write_rule(rule_dir, "slow_agent", SLOW_AGENT)
    write_rule(rule_dir, "admin_set", ADMIN)
    tables = DeltaRsTables(base_settings)
    eng = RuleEngine(spark, base_settings, paths=[rule_dir], durable=False, budget_s=10, ops_tables=tables)
    rows = [{"action_name": "setAdmin" if i == 0 else "getStatus", "user_agent": "a" * 120 + f"-{i}",
             "user_identity": {"email": "x@x.com"}} for i in range(1500)]
    df = batch(spark, "access.audit", rows).repartition(4)
    alerts = eng.evaluate_records("access.audit", df, batch_id=7, query_id="budget")
    assert [a["rule_id"] for a in alerts] == ["security.admin_set"], "the other rule's alert landed"
    assert list(eng.quarantined) == ["security.slow_agent"]
    assert "batch budget of 10 s" in eng.quarantined["security.slow_agent"][1]
    recorded = [r for r in tables.read(tables.name("ops", QUARANTINE)) if r["rule_id"] == "security.slow_agent"]
    assert len(recorded) == 1 and recorded[0]["batch_id"] == 7 and "batch budget" in recorded[0]["reason"]
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None, "the job group is restored"

    [issue] = quarantined_issues(tables, eng.loader.rules.values())
    assert issue.id == "security.slow_agent" and issue.code == "quarantined" and "batch budget" in issue.message
    # base_settings put LAKESENTINEL_HOME at this lakehouse: the CLI reads the same table.
    lint = CliRunner().invoke(app, ["rules", "lint", "--no-analyze", "--path", str(rule_dir), "--json"])
    assert lint.exit_code == 1 and "security.slow_agent" in lint.output and "quarantined by the running monitor" in lint.output
