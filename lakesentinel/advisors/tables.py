"""Table advisor: unused tables (no reads in ``unused_days``) and tables stale against their freshness
target (``freshness_hours``, or twice their own write cadence if longer), from ``fact_table_health`` (the audit log's reads and writes per table and day)."""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import SparkSession

from lakesentinel.advisors.config import AdvisorSettings
from lakesentinel.advisors.findings import Finding
from lakesentinel.advisors.window import Window, require, run_sql, window_of
from lakesentinel.settings import Settings

ADVISOR = "tables"
TABLES = ("fact_table_health",)
MIN_WRITE_DAYS = 3  # days with writes before a table has a cadence to be late against

_TABLES = """
SELECT
  workspace_id, table_full_name,
  min(first_access_at) AS first_seen_at,
  max(CASE WHEN read_events > 0 THEN last_access_at END) AS last_read_at,
  max(last_write_at) AS last_write_at,
  min(CASE WHEN write_events > 0 THEN last_write_at END) AS first_write_at,
  count(DISTINCT CASE WHEN write_events > 0 THEN date_key END) AS write_days,
  sum(read_events) AS read_events,
  sum(write_events) AS write_events,
  sum(CASE WHEN {recent} THEN read_events ELSE 0 END) AS recent_reads
FROM {{gold}}.fact_table_health
WHERE {window}
GROUP BY workspace_id, table_full_name
"""


def advise(spark: SparkSession, cfg: Settings, settings: AdvisorSettings) -> tuple[Window | None, list[Finding]]:
    require(spark, cfg, TABLES)
    th = settings.tables
    days = th.unused_days + settings.lookback_days  # a table must be older than unused_days to be unused
    window = window_of(spark, cfg, "fact_table_health", "last_access_at", days)
    if window is None:
        return None, []
    fresh_since = window.end - timedelta(hours=th.freshness_hours)
    recent = f"last_access_at >= TIMESTAMP '{fresh_since:%Y-%m-%d %H:%M:%S}'"
    rows = run_sql(spark, cfg, _TABLES.format(window=window.sql("first_access_at"), recent=recent))
    unused_since = window.end - timedelta(days=th.unused_days)
    findings = []
    for t in rows:
        def finding(kind, title, action, evidence):
            findings.append(Finding(ADVISOR, kind, t["workspace_id"], "table", t["table_full_name"], t["table_full_name"],
                                    title, action, evidence))

        evidence = {k: t[k] for k in ("first_seen_at", "last_read_at", "last_write_at", "read_events", "write_events")}
        evidence.update(window_start=window.start, window_end=window.end)
        if t["first_seen_at"] <= unused_since and (t["last_read_at"] is None or t["last_read_at"] < unused_since):
            finding("unused", f"{t['table_full_name']}: no reads in {th.unused_days} days",
                    "stop the writes that feed it and drop or archive the table (no reader in "
                    f"{th.unused_days} days)", evidence)
        elif t["recent_reads"] and t["last_write_at"] is not None and (t["write_days"] or 0) >= MIN_WRITE_DAYS:
            # judged against the table's own cadence too: a weekly table is not stale after two days
            cadence = (t["last_write_at"] - t["first_write_at"]).total_seconds() / 3600 / (t["write_days"] - 1)
            target = max(th.freshness_hours, 2 * cadence)
            age = (window.end - t["last_write_at"]).total_seconds() / 3600
            if age > target:
                finding("stale", f"{t['table_full_name']}: read, but last written {age:.0f} h ago (target {target:.0f} h)",
                        "check the job that writes it (failed, paused or removed) and bring the table back within its target",
                        {**evidence, "hours_since_write": round(age, 1), "target_hours": round(target, 1),
                         "write_days": t["write_days"], "cadence_hours": round(cadence, 1)})
    return window, findings
