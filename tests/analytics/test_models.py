"""Models: forecast skill on seasonal series, failure probabilities, risk ranks, budgets and alerts, MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lakesentinel.analytics import failure, risk
from lakesentinel.analytics.budgets import BudgetError, budget_alerts, lead_times, load_file, project, save, Budget
from lakesentinel.analytics.features import read_features, refresh_features
from lakesentinel.analytics.forecast import ForecastParams, backtest, forecast_frame, mase, seasonal_naive
from lakesentinel.lakehouse import Lakehouse

# Builds its own month-scale gold lakehouse: minutes of suite time, run with -m extended.
pytestmark = pytest.mark.extended


def weekly_series(rng, days=56, level=100.0, noise=0.25):
    week = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.4, 0.35])
    return np.array([level * week[d % 7] * rng.lognormal(0, noise) for d in range(days)])


def test_ets_beats_seasonal_naive_on_noisy_weekly_series_with_honest_intervals():
    rng = np.random.default_rng(5)
    series = {("s", str(i)): weekly_series(rng, level=rng.uniform(20, 500)) for i in range(12)}
    score = backtest(series, ForecastParams(level=0.9), horizon=14)
    assert score.series == 12
    assert score.mase_ratio < 0.9  # the named baseline repeats one noisy week
    assert 0.75 <= score.coverage <= 1.0


def test_mase_of_the_baseline_and_a_perfect_forecast():
    y = np.arange(28, dtype=float) % 7 + np.arange(28) / 10
    assert mase(y[-7:], y[-7:], y[:-7]) == 0.0
    assert mase(y[-7:], seasonal_naive(y[:-7], 7), y[:-7]) == pytest.approx(1.0)


def test_forecast_frame_covers_every_series_and_horizon_with_ordered_bounds():
    rng = np.random.default_rng(1)
    dates = pd.date_range("2026-03-02", periods=35, freq="D")
    hist = pd.concat([pd.DataFrame({"entity_type": "workspace", "entity_id": w, "date": dates,
                                    "cost": weekly_series(rng, 35)}) for w in ("a", "b")])
    out = forecast_frame(hist.iloc[:-3], ForecastParams(horizon=20))  # 'b' ends 3 days early: zeros after
    assert out.groupby("entity_id").size().to_dict() == {"a": 20, "b": 20}
    assert (out["lower_cost"] <= out["predicted_cost"] + 1e-9).all()
    assert (out["predicted_cost"] <= out["upper_cost"] + 1e-9).all()
    assert out["forecast_date"].min() == (dates[-1] + pd.Timedelta(days=1)).date()  # the day after the newest


def test_budget_alert_lead_time_on_injected_overspends():
    rng = np.random.default_rng(7)
    dates = pd.date_range("2026-03-02", periods=42, freq="D")
    hist = pd.concat([pd.DataFrame({"entity_type": "workspace", "entity_id": str(i), "date": dates,
                                    "cost": weekly_series(rng, 42, noise=0.1)}) for i in range(4)])
    leads = lead_times(hist, ForecastParams(), horizon=14)
    assert len(leads) == 4
    assert np.median(leads) >= 24  # warned at least a day before the budget is blown


@pytest.fixture(scope="module")
def features(analytics_spark, gold_cfg):
    refresh_features(analytics_spark, gold_cfg)
    return {t: read_features(analytics_spark, gold_cfg, t).toPandas()
            for t in ("features_job_efficiency", "features_security_surface")}


def test_failure_model_gives_probabilities_and_beats_nothing_worse_than_chance(features):
    frame = failure.training_frame(features["features_job_efficiency"])
    assert frame[failure.LABEL].nunique() == 2, "the fixture holds failed and successful runs"
    cut = frame["as_of"].quantile(0.5)
    train, test = frame[frame["as_of"] <= cut], frame[frame["as_of"] > cut]
    model = failure.fit(train)
    score = failure.evaluate(model, test)
    assert 0 <= score.mean_predicted <= 1 and score.rows == len(test)
    assert abs(score.mean_predicted - score.base_rate) < 0.25  # calibrated against the base rate
    assert sum(d["rows"] for d in score.deciles) == len(test)


def test_risk_ranks_principals_behind_injected_security_incidents_higher(features, gold_home):
    from lakesentinel.analytics.training import incident_users

    _, sim = gold_home
    users = incident_users(sim.truths)
    assert users, "the fixture injects security scenarios"
    principals = risk.principal_risk(risk.score_principals(features["features_security_surface"]))
    assert risk.rank_correlation(principals, users) > 0.1
    top = principals.sort_values("risk_score", ascending=False).iloc[0]
    assert top["explanation"] and sum(top["explanation"].values()) == pytest.approx(top["risk_score"], abs=0.01)


def test_scoring_writes_predictions_and_a_budget_below_the_projection_alerts(analytics_spark, gold_cfg):
    from lakesentinel.analytics.training import score_lakehouse

    counts = score_lakehouse(analytics_spark, gold_cfg, ForecastParams(horizon=14))
    assert counts["fact_cost_forecast"] > 0 and counts["fact_security_risk"] > 0
    lh = Lakehouse(gold_cfg)
    fc = analytics_spark.table(lh.name("gold", "fact_cost_forecast")).toPandas()
    assert set(fc["horizon_day"]) == set(range(1, 15))
    ws = fc[fc["entity_type"] == "workspace"].groupby("entity_id")["predicted_cost"].sum().astype(float)
    chosen = ws.idxmax()
    save(analytics_spark, gold_cfg, [
        Budget(budget_id="tight", scope_type="workspace", scope_id=chosen, monthly_amount="1e9"),
        Budget(budget_id="roomy", scope_type="account", monthly_amount="1e12")], [])
    spent = next(p.spent for p in project(analytics_spark, gold_cfg) if p.budget_id == "tight")
    # Between what is spent and what is projected: the alert must come before the overspend.
    amount = spent + 0.5 * float(ws[chosen])
    save(analytics_spark, gold_cfg, [Budget(budget_id="tight", scope_type="workspace", scope_id=chosen,
                                            monthly_amount=str(round(amount, 2)))], [])
    fired = budget_alerts(analytics_spark, gold_cfg)
    assert [p.budget_id for p in fired] == ["tight"]
    alerts = analytics_spark.table(lh.name("ops", "alerts")).where("rule_id = 'budget.forecast_overspend'").collect()
    assert len(alerts) == 1 and alerts[0]["entity_id"] == "tight" and alerts[0]["workspace_id"] == chosen
    assert alerts[0]["observed"] > alerts[0]["expected"] > spent


def test_a_bad_budget_file_names_the_entry_and_field(tmp_path):
    path = tmp_path / "budgets.yaml"
    path.write_text("budgets:\n  - {budget_id: a, scope_type: team, monthly_amount: 10}\n")
    with pytest.raises(BudgetError, match=r"budgets.yaml: budgets\[0\] field 'scope_type'"):
        load_file(path)
    path.write_text("slos:\n  - {slo_id: s, entity_type: job, objective: 0.95}\nbudget: []\n")
    with pytest.raises(BudgetError, match="unknown key"):
        load_file(path)


def test_models_are_logged_with_signature_and_example_registered_and_load_back(features, gold_cfg):
    import mlflow

    from lakesentinel.analytics.tracking import list_models, log_models

    frame = failure.training_frame(features["features_job_efficiency"])
    model = failure.fit(frame)
    rng = np.random.default_rng(3)
    history = pd.DataFrame({"entity_type": "workspace", "entity_id": "w", "date": pd.date_range(
        "2026-03-02", periods=21, freq="D").strftime("%Y-%m-%d"), "cost": weekly_series(rng, 21)})
    figures = {"forecast_mase_ratio": 0.8, "failure_auc": 0.7, "risk_rank_correlation": 0.5}
    run_id = log_models(gold_cfg, {"profile": "test"}, figures, ForecastParams(horizon=14), history, model,
                        frame.head(5), features["features_security_surface"].head(5))
    run = mlflow.get_run(run_id)
    assert run.data.metrics["failure_auc"] == 0.7
    listed = {m["model"]: m for m in list_models(gold_cfg)}
    assert all(listed[m]["latest_version"] for m in ("cost_forecast", "job_failure", "security_risk"))
    loaded = mlflow.pyfunc.load_model(f"models:/{listed['cost_forecast']['name']}/{listed['cost_forecast']['latest_version']}")
    assert loaded.metadata.signature is not None
    out = loaded.predict(history)
    assert len(out) == 14 and (out["predicted_cost"] >= 0).all()
