"""fact_security_event: audit events that the catalogue (``security_events.yaml``) names, classified.

The catalogue is data: each entry matches a service, optionally some actions and a SQL condition, and
gives an event type, a category and a severity. The first matching entry wins; unmatched audit events
are not security events and stay out of the fact.
"""

from __future__ import annotations

from functools import reduce
from pathlib import Path
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, ValidationError
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakesentinel.issues import ConfigFileError, Issue, at, read_yaml, validation_issues
from lakesentinel.gold.keys import user_key
from lakesentinel.gold.refs import WORKSPACE
from lakesentinel.gold.task import Build, DimensionUse, FactTask, by_date_key

CATALOGUE = Path(__file__).resolve().parents[1] / "security_events.yaml"
SEVERITIES = ("info", "low", "medium", "high", "critical")


class SecurityEventType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    actions: tuple[str, ...] = ()
    when: str | None = None
    event_type: str
    category: str
    severity: Literal["info", "low", "medium", "high", "critical"]

    def matches(self) -> Column:
        cond = F.col("service_name") == self.service
        if self.actions:
            cond = cond & F.col("action_name").isin(*self.actions)
        if self.when:
            cond = cond & F.coalesce(F.expr(self.when), F.lit(False))
        return cond


def load_catalogue(path: Path = CATALOGUE) -> list[SecurityEventType]:
    """The entries of ``path``; raise ConfigFileError naming file, line, column, entry and reason for each problem."""
    doc = read_yaml(path)
    if doc is None or not isinstance(doc.value, list):
        raise ConfigFileError([at(doc, (), "shape", "expected a list of event types", file=str(path))])
    issues: list[Issue] = []
    out = []
    for i, item in enumerate(doc.value):
        who = f"entry #{i + 1}"
        if not isinstance(item, dict):
            issues.append(at(doc, (i,), "shape", f"expected a mapping, got {item!r}", id=who))
            continue
        try:
            entry = SecurityEventType(**item)
        except ValidationError as exc:
            issues += validation_issues(exc, doc, (i,), id=who)
            continue
        if entry.when:
            try:
                sqlglot.parse_one(entry.when, dialect="spark")
            except sqlglot.errors.ParseError as exc:
                issues.append(at(doc, (i, "when"), "expr", f"'when' does not parse: {exc}", id=who))
                continue
        out.append(entry)
    if issues:
        raise ConfigFileError(issues)
    return out


def classify(events: DataFrame, catalogue: list[SecurityEventType]) -> DataFrame:
    """``events`` that an entry matches, with event_type, category, severity and severity_rank."""
    unmatched = F.lit(None).cast("struct<event_type:string,category:string,severity:string>")
    label = reduce(lambda acc, e: F.when(e.matches(), F.struct(F.lit(e.event_type).alias("event_type"),
                                                             F.lit(e.category).alias("category"),
                                                             F.lit(e.severity).alias("severity"))).otherwise(acc),
                   reversed(catalogue), unmatched)
    rank = F.array_position(F.array(*[F.lit(s) for s in SEVERITIES]), F.col("severity")).cast("int")
    return (events.withColumn("_label", label).where("_label IS NOT NULL")
            .select("*", "_label.*").drop("_label").withColumn("severity_rank", rank))


class SecurityFacts(FactTask):
    name, tables = "gold.fact_security_event", ("fact_security_event",)
    date_sources = {"audit": by_date_key}
    dimensions = (DimensionUse(WORKSPACE, "audit", WORKSPACE.natural, "event_time"),)

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        audit = build.silver("audit")
        if dates is not None:
            audit = audit.where(F.col("date_key").isin(dates))
        rows = classify(audit, load_catalogue()).select(
            "*", F.col("user_email").alias("user_name"), user_key(F.col("user_email")).alias("user_key"))
        return {"fact_security_event": WORKSPACE.attach(rows, build.gold("dim_workspace"), "event_time")}
