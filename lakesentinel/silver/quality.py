"""Declared data-quality checks: each silver batch is scored, and failing rows are quarantined.

Checks live in ``config/quality.yaml``, one list per silver table; each is a SQL boolean that a good
row satisfies. ``error`` checks send a failing row to the table's quarantine (with the names of the
checks it failed); ``warn`` checks keep the row and count it. Each batch's score goes to
``plt_ops.dq_results``. Nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, ValidationError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.issues import ConfigFileError, Issue, at, read_yaml, validation_issues
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

RESULTS_SCHEMA = (
    "task STRING, table_name STRING, batch_start_version BIGINT, batch_end_version BIGINT, run_at TIMESTAMP, "
    "rows_total BIGINT, rows_valid BIGINT, rows_quarantined BIGINT, rows_warned BIGINT, score DOUBLE, "
    "failures MAP<STRING, BIGINT>, status STRING, date_key INT"
)


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    expr: str
    severity: Literal["error", "warn"] = "error"
    description: str = ""


def load_checks(path: Path) -> dict[str, list[Check]]:
    """Checks per silver table; raise ConfigFileError naming file, line, column, table.check and reason for each problem."""
    if not path.is_file():
        return {}
    doc = read_yaml(path)
    if doc is None:
        return {}
    if not isinstance(doc.value, dict):
        raise ConfigFileError([at(doc, (), "shape", "expected a mapping of silver table -> list of checks")])
    issues: list[Issue] = []
    out: dict[str, list[Check]] = {}
    for table, items in doc.value.items():
        if not isinstance(items, list):
            issues.append(at(doc, (table,), "shape", "expected a list of checks", id=str(table)))
            continue
        checks = []
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            who = f"{table}.{name}" if name else f"{table}#{i + 1}"
            if not isinstance(item, dict):
                issues.append(at(doc, (table, i), "shape", "expected a mapping with name and expr", id=who))
                continue
            try:
                check = Check(**item)
            except ValidationError as exc:
                issues += validation_issues(exc, doc, (table, i), id=who)
                continue
            try:
                sqlglot.parse_one(check.expr, dialect="spark")
            except sqlglot.errors.ParseError as exc:
                issues.append(at(doc, (table, i, "expr"), "expr", f"expression does not parse: {exc}", id=who))
                continue
            checks.append(check)
        out[table] = checks
    if issues:
        raise ConfigFileError(issues)
    return out


@dataclass
class Outcome:
    valid: DataFrame
    quarantined: DataFrame
    total: int
    valid_count: int
    quarantined_count: int
    warned: int
    failures: dict[str, int]

    @property
    def score(self) -> float:
        return 1.0 if self.total == 0 else self.valid_count / self.total


def apply(rows: DataFrame, checks: list[Check]) -> Outcome:
    """Split ``rows`` into valid and quarantined rows; ``rows`` is cached for the three uses below."""
    errors = [c.name for c in checks if c.severity == "error"]
    failed = [F.when(~F.coalesce(F.expr(c.expr), F.lit(False)), F.lit(c.name)) for c in checks]
    flagged = rows.withColumn("_dq_failed", F.array_compact(F.array(*failed)) if failed
                              else F.array().cast("array<string>"))
    flagged = flagged.withColumn("_dq_error", F.exists("_dq_failed", lambda n: n.isin(errors)) if errors
                                 else F.lit(False)).persist()
    aggs = [F.count("*").alias("total"), F.sum(F.col("_dq_error").cast("int")).alias("bad"),
            F.sum((F.size("_dq_failed") > 0).cast("int")).alias("any")]
    aggs += [F.sum(F.array_contains("_dq_failed", c.name).cast("int")).alias(f"c{i}") for i, c in enumerate(checks)]
    stats = flagged.agg(*aggs).first()
    total, bad = stats["total"], stats["bad"] or 0
    failures = {c.name: stats[f"c{i}"] or 0 for i, c in enumerate(checks) if stats[f"c{i}"]}
    valid = flagged.where(~F.col("_dq_error")).drop("_dq_failed", "_dq_error")
    quarantined = (flagged.where(F.col("_dq_error"))
                   .withColumn("_dq_reasons", F.filter("_dq_failed", lambda n: n.isin(errors)))
                   .withColumn("_quarantined_at", F.current_timestamp()).drop("_dq_failed", "_dq_error"))
    warned = (stats["any"] or 0) - bad
    return Outcome(valid, quarantined, total, total - bad, bad, warned, failures)


def record(spark: SparkSession, cfg: Settings, *, task: str, table: str, start_version: int, end_version: int,
           outcome: Outcome) -> None:
    lh = Lakehouse(cfg)
    name = lh.create_table(spark, lh.name("ops", "dq_results"), RESULTS_SCHEMA,
                           comment="Data-quality score per silver table and batch")
    status = "fail" if outcome.quarantined_count else ("warn" if outcome.warned else "ok")
    row = spark.createDataFrame(
        [(task, table, start_version, end_version, outcome.total, outcome.valid_count, outcome.quarantined_count,
          outcome.warned, float(outcome.score), outcome.failures, status)],
        "task string, table_name string, batch_start_version bigint, batch_end_version bigint, rows_total bigint, "
        "rows_valid bigint, rows_quarantined bigint, rows_warned bigint, score double, failures map<string,bigint>, "
        "status string",
    ).withColumn("run_at", F.current_timestamp()).withColumn("date_key", F.date_format(F.current_date(), "yyyyMMdd").cast("int"))
    # Idempotent append: a batch re-run after a crash (same task and end version) is skipped by Delta.
    (row.write.format("delta").mode("append").option("txnAppId", f"lakesentinel.dq.{task}")
     .option("txnVersion", end_version).saveAsTable(name))
