"""Findings and ``plt_gold.fact_recommendation``: recording a run, the lifecycle, the measured saving.

A finding's id is a hash of advisor, kind and entity, so a re-run updates the row in place: evidence,
impact and action are refreshed, the status a user set (accepted, dismissed, done) is kept, and a
finding its advisor no longer detects stays with ``is_active`` false. Detection times are data time
(the newest fact the run saw), so a replayed or simulated history advises the same as live data;
accept, dismiss and done stamp wall time, and acceptance also records the data time the saving is
measured from. Plain Spark SQL (MERGE, UPDATE): it runs on classic Spark and Spark Connect alike.

>>> finding_id("warehouses", "auto_stop", "1", "warehouse", "w1")
'c7d9bf277d927f9e6c58a518867ccec7'
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from lakesentinel.errors import LakeSentinelError
from lakesentinel.lakehouse import Lakehouse, quote
from lakesentinel.settings import Settings

TABLE = "fact_recommendation"
ADVISORS = ("warehouses", "tables", "workflows")
STATUSES = ("open", "accepted", "dismissed", "done")
MONEY = T.DecimalType(38, 18)


class AdvisorError(LakeSentinelError):
    """An advisor that cannot run, or a lifecycle change that names no single finding."""


def finding_id(advisor: str, kind: str, workspace_id: str | None, entity_type: str, entity_id: str) -> str:
    key = "|".join((advisor, kind, workspace_id or "", entity_type, entity_id))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class Finding:
    advisor: str
    kind: str
    workspace_id: str | None
    entity_type: str
    entity_id: str
    entity_name: str | None
    title: str
    action: str
    evidence: dict = field(default_factory=dict)
    monthly_cost: float | None = None
    monthly_hours: float | None = None

    @property
    def finding_id(self) -> str:
        return finding_id(self.advisor, self.kind, self.workspace_id, self.entity_type, self.entity_id)


_INPUT = T.StructType([
    T.StructField("finding_id", T.StringType()), T.StructField("date_key", T.IntegerType()),
    T.StructField("advisor", T.StringType()), T.StructField("kind", T.StringType()),
    T.StructField("workspace_id", T.StringType()), T.StructField("entity_type", T.StringType()),
    T.StructField("entity_id", T.StringType()), T.StructField("entity_name", T.StringType()),
    T.StructField("title", T.StringType()), T.StructField("evidence", T.StringType()),
    T.StructField("action", T.StringType()), T.StructField("monthly_cost_impact", MONEY),
    T.StructField("monthly_hours_impact", T.DoubleType()), T.StructField("as_of", T.TimestampType()),
])


def _money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 6)))


def ensure_table(spark: SparkSession, cfg: Settings) -> str:
    from lakesentinel.gold.config import load_gold_settings
    from lakesentinel.gold.ddl import apply_table, owned_table_ddl

    return apply_table(spark, cfg, load_gold_settings(cfg), owned_table_ddl(cfg, "advisors", TABLE))


def record(spark: SparkSession, cfg: Settings, advisor: str, findings: list[Finding], as_of: datetime,
           now: datetime) -> str:
    """MERGE one advisor run's findings; the advisor's findings not detected again become inactive."""
    name = ensure_table(spark, cfg)
    run_id = uuid.uuid4().hex
    rows = [(f.finding_id, int(as_of.strftime("%Y%m%d")), f.advisor, f.kind, f.workspace_id, f.entity_type,
             f.entity_id, f.entity_name, f.title, json.dumps(f.evidence, default=str, sort_keys=True), f.action,
             _money(f.monthly_cost), None if f.monthly_hours is None else float(f.monthly_hours), as_of)
            for f in findings]
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        raise AdvisorError(f"advisor {advisor} found the same kind twice for one entity")
    view = f"_advisor_run_{run_id}"
    spark.createDataFrame(rows, _INPUT).createOrReplaceTempView(view)
    stamp = f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'"
    try:
        spark.sql(f"""
MERGE INTO {quote(name)} t
USING {view} s
ON t.finding_id = s.finding_id
WHEN MATCHED THEN UPDATE SET
  entity_name = s.entity_name, title = s.title, evidence = s.evidence, action = s.action,
  monthly_cost_impact = s.monthly_cost_impact, monthly_hours_impact = s.monthly_hours_impact,
  is_active = true,
  detection_count = t.detection_count + CASE WHEN s.as_of > t.last_detected_at OR NOT t.is_active THEN 1 ELSE 0 END,
  last_detected_at = greatest(t.last_detected_at, s.as_of),
  run_id = '{run_id}', updated_at = {stamp}
WHEN NOT MATCHED THEN INSERT (
  finding_id, date_key, advisor, kind, workspace_id, entity_type, entity_id, entity_name, title, evidence, action,
  monthly_cost_impact, monthly_hours_impact, status, is_active, detection_count, first_detected_at, last_detected_at,
  run_id, updated_at)
VALUES (
  s.finding_id, s.date_key, s.advisor, s.kind, s.workspace_id, s.entity_type, s.entity_id, s.entity_name, s.title,
  s.evidence, s.action, s.monthly_cost_impact, s.monthly_hours_impact, 'open', true, 1, s.as_of, s.as_of,
  '{run_id}', {stamp})
WHEN NOT MATCHED BY SOURCE AND t.advisor = '{advisor}' AND t.is_active THEN UPDATE SET
  is_active = false, run_id = '{run_id}', updated_at = {stamp}
""")
    finally:
        spark.catalog.dropTempView(view)
    return run_id


# The entity's list cost per day before and after acceptance, from the hourly cost facts.
_MEASURE = """
WITH accepted AS (
  SELECT finding_id, workspace_id, entity_type, entity_id, accepted_as_of
  FROM {name}
  WHERE status IN ('accepted', 'done') AND accepted_as_of IS NOT NULL AND entity_type IN ('warehouse', 'job')
),
cost AS (
  SELECT workspace_id, 'warehouse' AS entity_type, warehouse_id AS entity_id, hour_start, list_cost
  FROM {gold}.fact_cost_hourly WHERE warehouse_id IS NOT NULL
  UNION ALL
  SELECT workspace_id, 'job' AS entity_type, job_id AS entity_id, hour_start, list_cost
  FROM {gold}.fact_cost_hourly WHERE job_id IS NOT NULL
),
newest AS (SELECT max(hour_start) + INTERVAL 1 HOUR AS through FROM {gold}.fact_cost_hourly),
measured AS (
  SELECT
    a.finding_id,
    coalesce(sum(CASE WHEN c.hour_start >= a.accepted_as_of - INTERVAL {days} DAYS AND c.hour_start < a.accepted_as_of
                      THEN c.list_cost END), 0) AS cost_before,
    coalesce(sum(CASE WHEN c.hour_start >= a.accepted_as_of AND c.hour_start < a.accepted_as_of + INTERVAL {days} DAYS
                      THEN c.list_cost END), 0) AS cost_after,
    least({days}, greatest(0, (unix_seconds(max(n.through)) - unix_seconds(a.accepted_as_of)) / 86400.0)) AS days_after
  FROM accepted a
  CROSS JOIN newest n
  LEFT JOIN cost c
    ON c.workspace_id <=> a.workspace_id AND c.entity_type = a.entity_type AND c.entity_id = a.entity_id
  GROUP BY a.finding_id, a.accepted_as_of
)
SELECT
  finding_id, CAST(cost_before AS DECIMAL(38, 18)) AS cost_before, CAST(cost_after AS DECIMAL(38, 18)) AS cost_after,
  CAST(days_after AS DOUBLE) AS days_after,
  CASE WHEN days_after >= 1
       THEN CAST((cost_before / {days} - cost_after / days_after) * 30 AS DECIMAL(38, 18)) END AS measured_monthly_saving
FROM measured
"""


def measure_savings(spark: SparkSession, cfg: Settings, days: int, now: datetime) -> int:
    """Each accepted finding's saving measured from the cost facts; returns how many were measured."""
    from lakesentinel.gold.ddl import render

    lh = Lakehouse(cfg)
    name = ensure_table(spark, cfg)
    if not lh.exists(spark, lh.name("gold", "fact_cost_hourly")):
        return 0
    held = spark.sql(f"SELECT count(*) AS n FROM {quote(name)} WHERE status IN ('accepted', 'done') "
                     "AND accepted_as_of IS NOT NULL AND entity_type IN ('warehouse', 'job')").first()["n"]
    if not held:
        return 0
    sql = render(_MEASURE.replace("{name}", quote(name)).replace("{days}", str(int(days))), cfg, Path(__file__))
    spark.sql(f"""
MERGE INTO {quote(name)} t USING ({sql}) s ON t.finding_id = s.finding_id
WHEN MATCHED THEN UPDATE SET
  measure_days = {int(days)}, cost_before = s.cost_before, cost_after = s.cost_after, days_after = s.days_after,
  measured_monthly_saving = s.measured_monthly_saving, measured_at = TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'
""")
    return held


def read_findings(spark: SparkSession, cfg: Settings, advisor: str | None = None) -> list[dict]:
    """The findings held, costliest first (status and activity as stored)."""
    name = ensure_table(spark, cfg)
    where = f"WHERE advisor = '{advisor}'" if advisor else ""
    rows = spark.sql(f"SELECT * FROM {quote(name)} {where}").collect()
    out = [r.asDict() for r in rows]
    out.sort(key=lambda r: (not r["is_active"], STATUSES.index(r["status"]) if r["status"] in STATUSES else 9,
                            -float(r["monthly_cost_impact"] or 0), -(r["monthly_hours_impact"] or 0), r["finding_id"]))
    return out


def set_status(spark: SparkSession, cfg: Settings, prefix: str, status: str, by: str, now: datetime,
               note: str | None = None) -> dict:
    """Accept, dismiss or mark done the one finding whose id starts with ``prefix``."""
    if status not in STATUSES[1:]:
        raise AdvisorError(f"status {status!r}: one of {', '.join(STATUSES[1:])}")
    if not prefix or not all(c in "0123456789abcdef" for c in prefix.lower()):
        raise AdvisorError(f"finding id {prefix!r}: give the id (hex) or its first characters")
    name = ensure_table(spark, cfg)
    prefix = prefix.lower()
    matches = spark.sql(f"SELECT finding_id, status FROM {quote(name)} WHERE startswith(finding_id, '{prefix}')").collect()
    if not matches:
        raise AdvisorError(f"no finding with an id starting {prefix!r} (`lakesentinel advise` lists them)")
    if len(matches) > 1:
        raise AdvisorError(f"{len(matches)} findings have ids starting {prefix!r}: give more characters")
    fid = matches[0]["finding_id"]
    stamp = f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'"
    sets = [f"status = '{status}'", f"status_changed_at = {stamp}", "status_changed_by = :by", f"updated_at = {stamp}"]
    if status == "accepted":
        sets += [f"accepted_at = {stamp}", "accepted_as_of = last_detected_at"]
    elif status == "done":
        # done without an explicit accept: the change was made, so the saving is measured from now on
        sets += [f"accepted_at = coalesce(accepted_at, {stamp})", "accepted_as_of = coalesce(accepted_as_of, last_detected_at)",
                 f"done_at = {stamp}"]
    else:
        sets += [f"dismissed_at = {stamp}"]
    if note is not None:
        sets.append("note = :note")
    args = {"by": by, **({"note": note} if note is not None else {})}
    spark.sql(f"UPDATE {quote(name)} SET {', '.join(sets)} WHERE finding_id = '{fid}'", args=args)
    return spark.sql(f"SELECT * FROM {quote(name)} WHERE finding_id = '{fid}'").first().asDict()


def as_of_or(value: datetime | None, fallback: datetime) -> datetime:
    return value if value is not None else fallback


def hour_after(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
