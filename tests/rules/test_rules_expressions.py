"""The safe SQL subset: what is refused, what is rewritten, and that the result means what it says."""

from __future__ import annotations

import pytest

from lakesentinel.rules.aggregates import compile_having
from lakesentinel.rules.compiler import source_scope
from lakesentinel.rules.detection import selection
from lakesentinel.rules.expressions import ExpressionProblems, check
from lakesentinel.rules.logsources import logsource

AUDIT = source_scope(logsource("access.audit"))


def problems(text, scope=AUDIT, boolean=True):
    with pytest.raises(ExpressionProblems) as exc:
        check(text, scope, boolean=boolean)
    return [(p.code, p.message) for p in exc.value.problems]


@pytest.mark.parametrize("text, code", [
    ("action_name IN (SELECT action_name FROM system.access.audit)", "refused"),
    ("reflect('java.lang.Runtime', 'getRuntime')", "function"),
    ("rand() > 0.5", "function"),
    ("count(*) > 1", "aggregate"),
    ("current_timestamp() > event_time", "function"),
    ("action_name", "not-boolean"),
    ("action_name = 401", "type"),
    ("response.status_code = '401'", "type"),
    ("no_such_column = 'x'", "unknown-column"),
    ("response.code = 1", "unknown-field"),
    ("action_name.x = 'a'", "unknown-field"),
    ("action_name = ", "syntax"),
    ("action_name = 'a'; DROP TABLE x", "syntax"),
])
def test_refused(text, code):
    assert code in [c for c, _ in problems(text)]


def test_every_problem_is_reported_not_just_the_first():
    found = problems("nope = 1 AND response.status_code = 'x' AND reflect('a')")
    assert [c for c, _ in found] == ["unknown-column", "type", "function"]


def test_typos_get_suggestions():
    [(_, message)] = problems("acton_name = 'login'")
    assert "did you mean `action_name`" in message


def test_run_time_failures_are_rewritten_away():
    sql = check("cast(request_params.n AS BIGINT) / 0 > 1 AND identity_metadata.run_by = 'x'", AUDIT).sql
    assert "TRY_CAST" in sql and "TRY_DIVIDE" in sql and "TRY_ELEMENT_AT(`request_params`, 'n')" in sql
    assert "CAST(" not in sql.replace("TRY_CAST(", "")


def test_aliases_and_reads():
    checked = check("user = 'a@x.com' AND ip LIKE '10.%'", AUDIT)
    assert checked.reads == {"user_identity.email", "request_params.user", "request_params.userName",
                             "source_ip_address"}


def test_expressions_evaluate_as_written(spark):
    from tests.rules.conftest import batch

    df = batch(spark, "access.audit", [
        {"action_name": "login", "source_ip_address": "10.1.2.3:443", "request_params": {"n": "12"}},
        {"action_name": "login", "source_ip_address": "192.168.1.1", "request_params": {"n": "abc"}},
        {"action_name": "deleteTable", "source_ip_address": None},
    ])
    exprs = {
        "cidr": "cidr_match(source_ip_address, '10.0.0.0/8')",
        "num": "cast(request_params.n AS BIGINT) > 10",  # 'abc' is null under TRY_CAST, not an error
        "del": "lower(action_name) LIKE '%delete%'",
    }
    got = df.selectExpr(*[f"{check(t, AUDIT).sql} AS {k}" for k, t in exprs.items()]).collect()
    assert [tuple(r) for r in got] == [(True, True, False), (False, None, False), (None, None, True)]


def test_sigma_selections_mean_what_they_say(spark):
    from tests.rules.conftest import batch

    rows = [
        {"action_name": "getSecret", "request_params": {"key": "a_%b"}, "user_identity": {"email": "Ann@X.com"}},
        {"action_name": "getSecret", "request_params": {"key": "aXYb"}, "user_identity": {"email": "bob@x.com"}},
        {"action_name": "login", "request_params": {}, "user_identity": {"email": "svc@x.com"}},
    ]
    df = batch(spark, "access.audit", rows)
    cases = {
        "literal_wildcard_chars": {"request_params.key|startswith": "a_%"},  # _ and % are not wildcards here
        "sigma_wildcard": {"request_params.key": "a*b"},
        "case_insensitive": {"user_identity.email|ci": "ann@x.com"},
        "regex": {"user_identity.email|re": "^(ann|bob)@"},
        "missing_key": {"request_params.key|exists": False},
        "none_of": {"action_name|neq": ["getSecret", "logout"]},
    }
    sqls = []
    for name, sel in cases.items():
        checked, found = selection(sel, AUDIT, ("detection", name))
        assert not found, found
        sqls.append(f"coalesce({checked.sql}, false) AS {name}")
    got = [tuple(r) for r in df.selectExpr(*sqls).collect()]
    assert got == [(True, True, True, False, False, False),
                   (False, True, False, True, False, False),
                   (False, False, False, False, True, True)]


def test_selection_errors_point_at_the_key_or_the_value():
    _, found = selection({"response.status_code": ["401", "forbidden"], "nope|contains": "x"}, AUDIT,
                         ("detection", "sel"))
    where = {(p.path, p.key) for p in found}
    assert (("detection", "sel", "response.status_code", 1), False) in where
    assert (("detection", "sel", "nope|contains"), True) in where


def test_thresholds():
    scope = source_scope(logsource("access.audit"))
    h = compile_having("count(DISTINCT request_params.key) FILTER (WHERE action_name = 'getSecret') >= 10 "
                       "AND sum(response.status_code) > 100", scope)
    assert [a.kind for a in h.aggregates] == ["distinct", "sum"] and h.expected == 10.0
    assert not h.holds([9, 500]) and h.holds([10, 500]) and not h.holds([10, 100])
    for text, fragment in [("count(*) < 5", "must grow"), ("x > 1", "outside an aggregate"),
                           ("avg(response.status_code) > 1", "unsupported aggregate"),
                           ("sum(action_name) > 1", "needs numbers")]:
        with pytest.raises(ExpressionProblems) as exc:
            compile_having(text, scope)
        assert fragment in str(exc.value)
    ratio = compile_having("count(*) FILTER (WHERE action_name = 'a') > 0.5 * count(*)", scope)
    assert ratio.holds([6, 10]) and not ratio.holds([5, 10])
