"""Train and evaluate the models on simulated organisations, and score a lakehouse in batch.

Evaluation builds each seed's organisation through the real pipeline (simulator, bronze, silver,
gold, feature tables) in a scratch lakehouse, chooses the forecast's settings and fits the failure
model on the training seeds, and reports every figure on the held-out seeds.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakesentinel.analytics import failure, risk
from lakesentinel.analytics.features import read_features, refresh_features
from lakesentinel.analytics.forecast import ForecastParams, ForecastScore, backtest
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings, settings_at

FORECAST_GRID = [ForecastParams(log_transform=lt, damped_trend=d) for lt in (True, False) for d in (False, True)]


@dataclass(frozen=True)
class Plan:
    profile: str = "small"
    days: int = 35
    train_seeds: tuple[int, ...] = (31, 32)
    test_seeds: tuple[int, ...] = (41, 42)
    horizon: int = 14
    start: date = date(2026, 3, 2)


@dataclass
class Organisation:
    seed: int
    cfg: Settings
    truths: list


def build_organisation(spark: SparkSession, home: Path, plan: Plan, seed: int) -> Organisation:
    """One simulated organisation through the whole pipeline, up to the feature tables."""
    from lakesentinel.gold.plan import run_gold
    from lakesentinel.silver.plan import run_silver
    from lakesentinel.simulator.clock import to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.run import run_batch
    from lakesentinel.streams.ingest import add_bronze
    from lakesentinel.streams.supervisor import Supervisor

    cfg = settings_at(home)
    sim = Simulator(plan.profile, seed, to_us(plan.start), plan.days, warmup_days=min(7, plan.days // 3))
    run_batch(cfg, sim)
    Lakehouse(cfg).attach(spark)  # the session's table names now point at this organisation's lakehouse
    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    run_silver(spark, cfg)
    run_gold(spark, cfg, full=True)
    refresh_features(spark, cfg, full=True)
    return Organisation(seed, cfg, list(sim.truths))


def cost_history(spark: SparkSession, cfg: Settings) -> pd.DataFrame:
    """Daily list cost per workspace and per warehouse: entity_type, entity_id, date, cost."""
    lh = Lakehouse(cfg)
    cost = lh.read(spark, lh.name("gold", "fact_cost_daily"))
    day = F.to_date(F.col("date_key").cast("string"), "yyyyMMdd").alias("date")
    ws = cost.where("workspace_id IS NOT NULL").groupBy(
        F.lit("workspace").alias("entity_type"), F.col("workspace_id").alias("entity_id"), day).agg(
        F.sum("list_cost").cast("double").alias("cost"))
    wh = cost.where("warehouse_id IS NOT NULL").groupBy(
        F.lit("warehouse").alias("entity_type"), F.col("warehouse_id").alias("entity_id"), day).agg(
        F.sum("list_cost").cast("double").alias("cost"))
    return ws.unionByName(wh).toPandas()


def _series(history: pd.DataFrame, seed: int) -> dict[tuple[str, str], np.ndarray]:
    out = {}
    h = history.assign(date=pd.to_datetime(history["date"]))
    end = h["date"].max()
    for (etype, eid), rows in h.groupby(["entity_type", "entity_id"]):
        s = rows.groupby("date")["cost"].sum()
        s = s.reindex(pd.date_range(s.index.min(), end, freq="D"), fill_value=0.0)
        out[(f"{seed}:{etype}", eid)] = s.to_numpy()
    return out


def incident_users(truths: list) -> set[str]:
    users = set()
    for t in truths:
        if t.domain == "security":
            users |= {v for k, v in t.entities.items() if k in ("user", "user_name", "principal", "actor") and v}
            if t.entity_type in ("user", "principal", "service_principal"):
                users.add(t.entity_id)
    return users


@dataclass
class Evaluation:
    figures: dict
    forecast_params: ForecastParams
    failure_model: object
    examples: dict


def evaluate(spark: SparkSession, plan: Plan, workdir: Path | None = None, progress=lambda msg: None) -> Evaluation:
    """Every model on the plan's seeds; figures on the held-out ones."""
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="lakesentinel-models-")) if own else workdir
    try:
        orgs: dict[int, Organisation] = {}
        for seed in plan.train_seeds + plan.test_seeds:
            progress(f"seed {seed}: simulating {plan.days} days ({plan.profile}) through gold and features")
            orgs[seed] = build_organisation(spark, root / f"seed-{seed}", plan, seed)
        return _evaluate(spark, plan, orgs, progress)
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def _evaluate(spark: SparkSession, plan: Plan, orgs: dict[int, Organisation], progress) -> Evaluation:

    figures: dict = {}
    histories, jobs, surfaces = {}, {}, {}
    for seed, org in orgs.items():
        Lakehouse(org.cfg).attach(spark)
        histories[seed] = cost_history(spark, org.cfg)
        jobs[seed] = read_features(spark, org.cfg, "features_job_efficiency").toPandas()
        surfaces[seed] = read_features(spark, org.cfg, "features_security_surface").toPandas()

    progress("forecast: choosing settings on the training seeds")
    train_series = {k: v for seed in plan.train_seeds for k, v in _series(histories[seed], seed).items()}
    test_series = {k: v for seed in plan.test_seeds for k, v in _series(histories[seed], seed).items()}

    def ratio(p: ForecastParams) -> float:
        r = backtest(train_series, p, plan.horizon).mase_ratio
        return r if r is not None else float("inf")

    best = min(FORECAST_GRID, key=ratio)
    score: ForecastScore = backtest(test_series, best, plan.horizon)
    figures.update(forecast_mase_ratio=score.mase_ratio, forecast_interval_coverage=score.coverage,
                   forecast_model_mase=score.model_mase / score.series if score.series else None,
                   forecast_naive_mase=score.naive_mase / score.series if score.series else None,
                   forecast_series=score.series, forecast_horizon_days=plan.horizon, forecast_level=best.level)

    progress("job failure: fitting on the training seeds")
    train = failure.training_frame(pd.concat([jobs[s] for s in plan.train_seeds], ignore_index=True))
    test = failure.training_frame(pd.concat([jobs[s] for s in plan.test_seeds], ignore_index=True))
    model = failure.fit(train)
    fs = failure.evaluate(model, test)
    figures.update(failure_auc=fs.auc, failure_baseline_auc=fs.baseline_auc, failure_base_rate=fs.base_rate,
                   failure_mean_predicted=fs.mean_predicted, failure_ece=fs.ece, failure_test_rows=fs.rows)

    progress("security risk: ranking principals against the injected incidents")
    correlations = []
    for seed in plan.test_seeds:
        principals = risk.principal_risk(risk.score_principals(surfaces[seed]))
        rc = risk.rank_correlation(principals, incident_users(orgs[seed].truths))
        if rc is not None:
            correlations.append(rc)
    figures["risk_rank_correlation"] = float(np.mean(correlations)) if correlations else None

    from lakesentinel.analytics.budgets import lead_times

    progress("budgets: lead time of forecast alerts on injected overspends")
    leads = [h for seed in plan.test_seeds for h in lead_times(histories[seed], best, plan.horizon)]
    figures["budget_alert_lead_hours"] = float(np.median(leads)) if leads else None
    figures["budget_overspends"] = len(leads)

    example_history = histories[plan.test_seeds[0]]
    first = example_history.groupby(["entity_type", "entity_id"]).head(21).head(42)
    examples = {"forecast": first.assign(date=pd.to_datetime(first["date"]).dt.strftime("%Y-%m-%d")),
                "failure": test.head(5), "risk": surfaces[plan.test_seeds[0]].head(5)}
    return Evaluation(figures, best, model, examples)


def headline(figures: dict) -> dict:
    """The five figures ``models evaluate --json`` ends with."""
    keys = ("forecast_mase_ratio", "forecast_interval_coverage", "failure_auc", "risk_rank_correlation",
            "budget_alert_lead_hours")
    return {k: (round(figures[k], 4) if isinstance(figures.get(k), float) else figures.get(k)) for k in keys}


def score_lakehouse(spark: SparkSession, cfg: Settings, params: ForecastParams | None = None,
                    failure_model=None) -> dict[str, int]:
    """Batch scoring of one lakehouse: forecasts, failure probabilities and risk scores into gold."""
    from lakesentinel.analytics.forecast import forecast_frame
    from lakesentinel.analytics.predictions import write_predictions

    params = params or ForecastParams()
    refresh_features(spark, cfg)
    history = cost_history(spark, cfg)
    if history.empty:
        return {}
    newest = pd.to_datetime(history["date"]).max()
    scored = int(newest.strftime("%Y%m%d"))
    counts = {}
    fc = forecast_frame(history, params).assign(interval_level=params.level, model_name="cost_forecast",
                                                model_version="local")
    write_predictions(spark, cfg, "fact_cost_forecast", fc, scored)
    counts["fact_cost_forecast"] = len(fc)

    jobs = read_features(spark, cfg, "features_job_efficiency").toPandas()
    known = failure.training_frame(jobs)
    if failure_model is None and known[failure.LABEL].nunique() == 2:
        failure_model = failure.fit(known)  # none registered: the lakehouse's own history
    if failure_model is not None:
        latest = jobs[jobs["date_key"] == jobs["date_key"].max()]
        probs = failure_model.predict_proba(failure.model_input(latest))[:, 1]
        out = latest[["run_id", "workspace_id", "job_id", "as_of"]].assign(
            failure_probability=probs, model_name="job_failure", model_version="local")
        write_predictions(spark, cfg, "fact_job_failure_risk", out, scored)
        counts["fact_job_failure_risk"] = len(out)

    surface = read_features(spark, cfg, "features_security_surface").toPandas()
    if not surface.empty:
        principals = risk.principal_risk(risk.score_principals(surface))
        workspaces = risk.workspace_risk(principals)
        rows = pd.concat([principals.assign(level="principal")[["level", "workspace_id", "user_name", "risk_score", "explanation"]],
                          workspaces.assign(level="workspace", user_name=None, explanation=None)], ignore_index=True)
        write_predictions(spark, cfg, "fact_security_risk", rows.assign(model_name="security_risk", model_version="local"),
                          scored)
        counts["fact_security_risk"] = len(rows)
    return counts




def train_on_lakehouse(spark: SparkSession, cfg: Settings, horizon: int = 14) -> Evaluation:
    """Retrain on the environment's own history (the weekly job): the forecast's settings by backtest,
    the failure model on the older 80% of runs and scored on the newest 20%, then refitted on all.
    Risk weights are documented, not learned; real data has no injected incidents to rank against."""
    refresh_features(spark, cfg)
    history = cost_history(spark, cfg)
    series = _series(history, 0) if not history.empty else {}
    scored = {p: backtest(series, p, horizon) for p in FORECAST_GRID}
    usable = {p: s for p, s in scored.items() if s.mase_ratio is not None}
    best = min(usable, key=lambda p: usable[p].mase_ratio) if usable else ForecastParams()
    figures: dict = {"forecast_horizon_days": horizon}
    if usable:
        figures.update(forecast_mase_ratio=usable[best].mase_ratio, forecast_interval_coverage=usable[best].coverage,
                       forecast_series=usable[best].series)
    frame = failure.training_frame(read_features(spark, cfg, "features_job_efficiency").toPandas())
    model = None
    if frame[failure.LABEL].nunique() == 2:
        cut = frame["as_of"].quantile(0.8)
        early, late = frame[frame["as_of"] <= cut], frame[frame["as_of"] > cut]
        if early[failure.LABEL].nunique() == 2 and len(late):
            fs = failure.evaluate(failure.fit(early), late)
            figures.update(failure_auc=fs.auc, failure_baseline_auc=fs.baseline_auc, failure_base_rate=fs.base_rate,
                           failure_ece=fs.ece)
        model = failure.fit(frame)
    surface = read_features(spark, cfg, "features_security_surface").toPandas()
    first = history.groupby(["entity_type", "entity_id"]).head(21).head(42)
    examples = {"forecast": first.assign(date=pd.to_datetime(first["date"]).dt.strftime("%Y-%m-%d")),
                "failure": frame.head(5), "risk": surface.head(5)}
    return Evaluation(figures, best, model, examples)
