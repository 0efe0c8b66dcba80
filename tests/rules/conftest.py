"""Fixtures for the rules engine: the shipped packs, rule files written on the fly, typed batches."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lakesentinel.rules.logsources import logsource
from lakesentinel.rules.testing import to_row
from lakesentinel.settings import SHIPPED_DIR

RULES_ROOT = SHIPPED_DIR / "rules"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def shipped():
    """The shipped packs, loaded once (no Spark needed)."""
    from lakesentinel.rules.loader import load_rules

    return load_rules(RULES_ROOT, root=SHIPPED_DIR)


@pytest.fixture
def rule_dir(tmp_path) -> Path:
    """An empty rules folder with the domain sub-folders."""
    root = tmp_path / "rules"
    for domain in ("security", "cost", "query", "reliability"):
        (root / domain).mkdir(parents=True)
    return root


def write_rule(root: Path, name: str, text: str, domain: str = "security") -> Path:
    path = root / domain / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def batch(spark, source: str, rows: list[dict], commit: datetime | None = None):
    """A DataFrame with the source's exact columns (plus the ingest commit time when given)."""
    info = logsource(source)
    schema = info.table.schema
    typed = []
    for i, r in enumerate(rows):
        values = dict(r)
        values.setdefault(info.time_column, T0)
        values.setdefault(info.evidence_name, f"e{i}-{id(rows)}")
        typed.append(to_row(values, schema, f"row {i}"))
    df = spark.createDataFrame(typed, schema)
    if commit is not None:
        from pyspark.sql import functions as F

        df = df.withColumn("_source_commit_timestamp", F.lit(commit))
    return df


def failed_logins(user: str, n: int, start: datetime = T0, every: timedelta = timedelta(minutes=1),
                  ip: str = "198.51.100.7") -> list[dict]:
    return [{"service_name": "accounts", "action_name": "login", "response": {"status_code": 401},
             "request_params": {"user": user}, "source_ip_address": ip, "event_time": start + every * i,
             "event_id": f"{user}-{start.isoformat()}-{i}"} for i in range(n)]
