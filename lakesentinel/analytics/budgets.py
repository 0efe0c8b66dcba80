"""Budgets and SLOs as data, and the forecast alert that warns before a budget is blown.

``plt_ops.budgets`` holds one row per budget (a workspace's, or the account's, spend per calendar
month at list prices); ``plt_gold.dim_slo`` one row per objective (share of a job's runs, or a
warehouse's query hours, that must meet it over a rolling window). Both are edited from YAML
(``budgets.yaml``: ``budgets:`` and ``slos:``) or the CLI; every edit replaces the row by id.

A budget alert fires when month-to-date spend plus the latest forecast of the month's remaining days
crosses the budget while the spend itself has not: the same alert record rules emit
(:mod:`lakesentinel.alerts.record`), written with :func:`lakesentinel.alerts.sink.write_alerts`, so
it meets the incident lifecycle and the receivers like any other signal.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakesentinel.analytics.forecast import SEASON, ForecastParams, forecast_series
from lakesentinel.errors import LakeSentinelError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

RULE_ID = "budget.forecast_overspend"
BUDGETS_SCHEMA = ("budget_id STRING NOT NULL, scope_type STRING NOT NULL, scope_id STRING, "
                  "monthly_amount DECIMAL(38,18) NOT NULL, currency_code STRING, alert_share DOUBLE, owner STRING, "
                  "updated_at TIMESTAMP")
SLO_SCHEMA = ("slo_id STRING NOT NULL, entity_type STRING NOT NULL, entity_id STRING NOT NULL, objective DOUBLE NOT NULL, "
              "window_days INT NOT NULL, description STRING, updated_at TIMESTAMP")


class BudgetError(LakeSentinelError):
    """A budgets or SLO file or command that does not fit."""


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget_id: str
    scope_type: str = Field(pattern="^(workspace|account)$")
    scope_id: str | None = None  # the workspace id; none for the account
    monthly_amount: Decimal = Field(gt=0)
    currency_code: str = "USD"
    alert_share: float = Field(1.0, gt=0, le=2)  # alert when the projection reaches this share of the amount
    owner: str | None = None


class Slo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slo_id: str
    entity_type: str = Field(pattern="^(job|warehouse)$")
    entity_id: str = "*"  # '*': every entity of the type without an SLO of its own
    objective: float = Field(gt=0, le=1)
    window_days: int = Field(7, ge=1, le=90)
    description: str | None = None


def load_file(path: Path) -> tuple[list[Budget], list[Slo]]:
    """Budgets and SLOs from YAML; an error names the file, the list, the entry and the field."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BudgetError(f"{path}: {exc}") from None
    unknown = set(data) - {"budgets", "slos"}
    if unknown:
        raise BudgetError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; expected budgets and slos")
    out: dict[str, list] = {"budgets": [], "slos": []}
    for key, model in (("budgets", Budget), ("slos", Slo)):
        for i, entry in enumerate(data.get(key) or []):
            try:
                out[key].append(model.model_validate(entry))
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"])
                raise BudgetError(f"{path}: {key}[{i}] field {field!r}: {err['msg']}") from None
    return out["budgets"], out["slos"]


def _upsert(spark: SparkSession, name: str, rows: list[dict], schema: str, key: str) -> None:
    from delta.tables import DeltaTable

    if not rows:
        return
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    df = spark.createDataFrame([dict(r, updated_at=now) for r in rows], spark.table(name).schema)
    (DeltaTable.forName(spark, name).alias("t").merge(df.alias("s"), f"t.{key} = s.{key}")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())


def budgets_table(spark: SparkSession, cfg: Settings) -> str:
    lh = Lakehouse(cfg)
    return lh.create_table(spark, lh.name("ops", "budgets"), BUDGETS_SCHEMA, comment="Monthly spend budgets")


def slo_table(spark: SparkSession, cfg: Settings) -> str:
    lh = Lakehouse(cfg)
    return lh.create_table(spark, lh.name("gold", "dim_slo"), SLO_SCHEMA, comment="Service level objectives")


def save(spark: SparkSession, cfg: Settings, budgets: list[Budget], slos: list[Slo]) -> None:
    _upsert(spark, budgets_table(spark, cfg), [b.model_dump() for b in budgets], BUDGETS_SCHEMA, "budget_id")
    _upsert(spark, slo_table(spark, cfg), [s.model_dump() for s in slos], SLO_SCHEMA, "slo_id")


# ---- the alert -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    budget_id: str
    workspace_id: str | None
    month: date
    spent: float
    projected: float
    amount: float
    alert_share: float

    @property
    def alerting(self) -> bool:
        return self.projected >= self.amount * self.alert_share and self.spent < self.amount


def project(spark: SparkSession, cfg: Settings) -> list[Projection]:
    """Each budget's month-to-date spend and its projection to the month's end (latest forecast)."""
    lh = Lakehouse(cfg)
    budgets = spark.table(budgets_table(spark, cfg)).collect()
    cost = lh.read(spark, lh.name("gold", "fact_cost_daily"))
    newest = cost.agg(F.max("date_key")).first()[0]
    if newest is None or not budgets:
        return []
    today = date(newest // 10000, newest // 100 % 100, newest % 100)
    month = today.replace(day=1)
    month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    mtd = cost.where(f"date_key >= {int(month.strftime('%Y%m%d'))}").groupBy("workspace_id").agg(
        F.sum("list_cost").cast("double").alias("spent")).toPandas().set_index("workspace_id")["spent"]
    fc_name = lh.name("gold", "fact_cost_forecast")
    forecast = pd.Series(dtype=float)
    if lh.exists(spark, fc_name):
        fc = spark.table(fc_name)
        latest = fc.agg(F.max("scored_date_key")).first()[0]
        forecast = (fc.where(f"scored_date_key = {latest} AND entity_type = 'workspace' "
                             f"AND forecast_date > DATE'{today}' AND forecast_date <= DATE'{month_end}'")
                    .groupBy("entity_id").agg(F.sum("predicted_cost").cast("double").alias("f"))
                    .toPandas().set_index("entity_id")["f"])
    out = []
    for b in budgets:
        if b.scope_type == "workspace":
            spent, ahead = float(mtd.get(b.scope_id, 0.0)), float(forecast.get(b.scope_id, 0.0))
        else:
            spent, ahead = float(mtd.sum()), float(forecast.sum())
        out.append(Projection(b.budget_id, b.scope_id, month, spent, spent + ahead, float(b.monthly_amount),
                              float(b.alert_share or 1.0)))
    return out


def budget_alerts(spark: SparkSession, cfg: Settings) -> list[Projection]:
    """Write an alert for every budget whose projection crosses it before the spend does; those budgets."""
    from lakesentinel.alerts.record import ALERT_SCHEMA, alert_id, fingerprint
    from lakesentinel.alerts.sink import write_alerts

    alerting = [p for p in project(spark, cfg) if p.alerting]
    if not alerting:
        return []
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = []
    for p in alerting:
        fp = fingerprint(RULE_ID, {"budget_id": p.budget_id})
        start = datetime.combine(p.month, datetime.min.time())
        end = datetime.combine(p.month.replace(day=calendar.monthrange(p.month.year, p.month.month)[1])
                               + timedelta(days=1), datetime.min.time())
        rows.append({
            "alert_id": alert_id(fp, start, end), "fingerprint": fp, "kind": "rule", "rule_id": RULE_ID,
            "rule_version": "1", "domain": "cost", "severity": "high" if p.projected >= p.amount else "medium",
            "title": f"Budget {p.budget_id} projected to reach {p.projected:,.0f} of {p.amount:,.0f} this month",
            "summary": f"spent {p.spent:,.2f} so far; forecast to the month's end {p.projected:,.2f}",
            "workspace_id": p.workspace_id, "entity_type": "budget", "entity_id": p.budget_id,
            "window_start": start, "window_end": end, "observed": p.projected, "expected": p.amount,
            "score": 1.0, "evidence": {"budget_id": [p.budget_id]}, "labels": {"source": "forecast"},
            "runbook_url": None, "cost_impact": Decimal(f"{max(p.projected - p.amount, 0.0):.6f}"),
            "detected_at": now, "source_committed_at": None, "date_key": int(end.strftime("%Y%m%d"))})
    write_alerts(spark, cfg, spark.createDataFrame(rows, ALERT_SCHEMA))
    return alerting


# ---- evaluation ------------------------------------------------------------------------------------------


def lead_times(history: pd.DataFrame, params: ForecastParams, horizon: int, surge: float = 0.6,
               margin: float = 1.05) -> list[float]:
    """Hours between the forecast alert and the overspend, per injected overspend.

    For each workspace series, the last ``horizon`` days are the budget period: its budget is the
    spend it really had plus ``margin``, and an overspend is injected by adding ``surge`` times the
    recent daily mean to every day from a third of the way in. Each day the alert is judged as in
    production (spend so far plus the forecast of the rest, from the history up to that day); lead time
    runs from that day's end to the end of the day the cumulative spend crosses the budget (0 when
    the alert comes no earlier than the overspend).
    """
    leads = []
    h = history[history["entity_type"] == "workspace"].assign(date=lambda d: pd.to_datetime(d["date"]))
    end = h["date"].max() if len(h) else None
    for _, rows in h.groupby("entity_id"):
        s = rows.groupby("date")["cost"].sum()
        y = s.reindex(pd.date_range(s.index.min(), end, freq="D"), fill_value=0.0).to_numpy()
        if len(y) < 2 * SEASON + horizon or y[-horizon:].sum() <= 0:
            continue
        base, period = y[:-horizon], y[-horizon:].copy()
        budget = margin * period.sum()
        period[horizon // 3:] += surge * base[-2 * SEASON:].mean()
        crossed = np.nonzero(np.cumsum(period) > budget)[0]
        if not len(crossed):
            continue
        cross = int(crossed[0])
        alert_day = cross + 1
        for d in range(0, cross + 1):
            mean, _, _ = forecast_series(np.concatenate([base, period[:d]]),
                                         ForecastParams(**{**params.as_dict(), "horizon": horizon - d}))
            if period[:d].sum() + mean.sum() >= budget:
                alert_day = d
                break
        leads.append(float((cross + 1 - alert_day) * 24))
    return leads
