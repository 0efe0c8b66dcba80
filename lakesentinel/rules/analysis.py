"""Spark's own analysis of compiled rules: the last check before a rule meets a real batch.

The checker in :mod:`~lakesentinel.rules.expressions` knows the schema and the allowed functions;
Spark's analyser also knows every implicit cast, and ``java.util.regex`` is the judge of a pattern's
syntax. Projecting an empty DataFrame of the source schema through each rule's plan runs the analysis
without running a job; each regular expression is compiled by folding ``'' RLIKE pattern`` (no job
either). Both work over Spark Connect. Whatever Spark says, the issue says it, never an empty reason.
"""

from __future__ import annotations

import sqlglot
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlglot import exp

from lakesentinel.rules.compiler import CompiledRule
from lakesentinel.rules.issues import Issue
from lakesentinel.rules.matchframe import MatchPlan

_REGEX_NODES = (exp.RegexpLike, exp.RegexpILike, exp.RegexpExtract, exp.RegexpSplit)


_DONE: dict[tuple[str, str, str], list[Issue]] = {}  # (rule id, version, file) -> its issues, per process


def analyze_once(spark: SparkSession, rules: list[CompiledRule]) -> list[Issue]:
    """As :func:`analyze_rules`, remembering each rule version's result (the engine calls it on every reload)."""
    new = [r for r in rules if (r.id, r.version, r.file) not in _DONE]
    if new:
        found = analyze_rules(spark, new)
        for rule in new:
            _DONE[(rule.id, rule.version, rule.file)] = [i for i in found if i.id == rule.id]
    return [i for r in rules for i in _DONE[(r.id, r.version, r.file)]]


def analyze_rules(spark: SparkSession, rules: list[CompiledRule]) -> list[Issue]:
    """An error issue for each rule that Spark refuses to analyse or whose pattern Java cannot compile."""
    issues = []
    empties = {}
    java_ok: dict[str, str | None] = {}
    for rule in rules:
        info = rule.source
        if info.name not in empties:
            empties[info.name] = spark.createDataFrame([], info.schema)
        plan = MatchPlan.build(info, [rule])
        try:
            empties[info.name].select(*[c.alias(n) for n, c in rule.columns().items()]).schema  # noqa: B018
            plan.projection(empties[info.name]).schema  # noqa: B018  (analysis only)
        except Exception as exc:  # noqa: BLE001  (Spark reports analysis errors with several types)
            issues.append(_issue(rule, "spark-analysis", f"Spark rejects the compiled rule: {reason(exc)}"))
            continue
        for pattern in regex_literals(plan._statement(False)):
            if pattern not in java_ok:
                java_ok[pattern] = java_regex_problem(spark, pattern)
            if java_ok[pattern]:
                issues.append(_issue(rule, "pattern", f"Java cannot compile the pattern {pattern[:60]!r}: "
                                                      f"{java_ok[pattern]}"))
    return issues


def reason(exc: BaseException) -> str:
    """The first informative line of a Spark (or any) error, with its type when that is all there is."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.strip().startswith("JVM stacktrace")]
    text = " ".join(lines[:2])[:300]
    name = getattr(exc, "getCondition", lambda: None)() or type(exc).__name__
    return f"{text} ({name})" if text else f"{name}, with no message"


def regex_literals(sql: str) -> list[str]:
    """The literal patterns of every regular-expression call in a statement."""
    try:
        tree = sqlglot.parse_one(sql.replace("{{", "{").replace("}}", "}").replace("{batch}", "t"), read="spark")
    except sqlglot.errors.SqlglotError:
        return []
    out = []
    for node in tree.find_all(*_REGEX_NODES):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            out.append(pattern.this)
    return list(dict.fromkeys(out))


def java_regex_problem(spark: SparkSession, pattern: str) -> str | None:
    """Why Java cannot compile ``pattern``, or None; the optimiser folds the constant, so no job runs."""
    try:
        spark.range(1).select(F.regexp_like(F.lit(""), F.lit(pattern))).collect()
    except Exception as exc:  # noqa: BLE001
        return reason(exc)
    return None


def _issue(rule: CompiledRule, code: str, message: str) -> Issue:
    return Issue("error", code, message, rule.file, rule.line, 1, rule.id)
