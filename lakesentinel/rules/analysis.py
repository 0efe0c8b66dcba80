"""Spark's own analysis of compiled rules: the last check before a rule meets a real batch.

The checker in :mod:`~lakesentinel.rules.expressions` knows the schema and the allowed functions;
Spark's analyser also knows every implicit cast. Projecting an empty DataFrame of the source schema
through each rule's plan runs that analysis without running a job.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakesentinel.rules.compiler import CompiledRule
from lakesentinel.rules.issues import Issue
from lakesentinel.rules.matchframe import MatchPlan


def analyze_rules(spark: SparkSession, rules: list[CompiledRule]) -> list[Issue]:
    issues = []
    empties = {}
    for rule in rules:
        info = rule.source
        if info.name not in empties:
            empties[info.name] = spark.createDataFrame([], info.schema)
        try:
            empties[info.name].select(*[c.alias(n) for n, c in rule.columns().items()]).schema  # noqa: B018
            MatchPlan.build(info, [rule]).projection(empties[info.name]).schema  # noqa: B018  (analysis only)
        except Exception as exc:  # noqa: BLE001  (Spark reports analysis errors with several types)
            issues.append(Issue("error", "spark-analysis", f"Spark rejects the compiled rule: "
                                                           f"{str(exc).splitlines()[0][:300]}", rule.file, rule.line, 1,
                                rule.id))
    return issues
