"""MLflow: an evaluation run with one nested run per detector, and detector models that load and score."""

import math

import pandas as pd

from lakesentinel.detectors.evaluation import Evaluation
from lakesentinel.detectors.mlflow_model import score_frame
from lakesentinel.detectors.spec import find_spec
from lakesentinel.detectors.tracking import log_evaluation, registered_name


def test_an_evaluation_is_logged_and_its_models_registered(fresh_settings, shipped_specs):
    import mlflow

    spec = find_spec(shipped_specs, "cost.sku_hourly_cost")
    evaluation = Evaluation(targets=spec.evaluation.scenarios, detections=5, true_positives=4, false_positives=1,
                            instances={"untagged_spend_surge": 4, "serverless_sql_spend_surge": 0},
                            found={"untagged_spend_surge": 3}, delays_minutes={"untagged_spend_surge": [60.0, 90.0, 120.0]})
    run_id = log_evaluation(fresh_settings, [spec], {spec.id: evaluation}, {"profile": "small", "seeds": "1"},
                            register=True)

    assert fresh_settings.mlflow.tracking_uri.startswith("file://") and mlflow.get_tracking_uri().startswith("file://")
    client = mlflow.tracking.MlflowClient()
    parent = client.get_run(run_id)
    assert parent.data.params == {"profile": "small", "seeds": "1"}
    (child,) = [r for r in client.search_runs([parent.info.experiment_id])
                if r.data.tags.get("mlflow.parentRunId") == run_id]
    assert child.data.params["model.type"] == "forecast_residual" and child.data.params["id"] == spec.id
    assert child.data.metrics["precision"] == 0.8
    assert child.data.metrics["recall.untagged_spend_surge"] == 0.75
    assert child.data.metrics["delay_median_minutes.untagged_spend_surge"] == 90.0
    assert "recall.serverless_sql_spend_surge" not in child.data.metrics  # no instances: no recall

    model = mlflow.pyfunc.load_model(f"models:/{registered_name(fresh_settings, spec)}/1")
    frame = pd.DataFrame({"timestamp": pd.date_range("2026-03-02", periods=24 * 5, freq="h")})
    frame["value"] = [30 + 10 * math.sin(i / 24 * 2 * math.pi) for i in range(len(frame))]
    frame.loc[len(frame) - 1, "value"] = 500.0
    scored = model.predict(frame)
    assert scored["anomaly_score"].tolist() == score_frame(spec, frame)["anomaly_score"].tolist()
    assert scored["anomaly_score"].iloc[-1] > 0.9 and scored["severity"].iloc[-1] == "high"


def test_unity_catalog_names_live_in_the_ops_schema(fresh_settings, shipped_specs):
    spec = shipped_specs[0]
    uc = fresh_settings.model_copy(update={"catalog": "main", "mlflow": fresh_settings.mlflow.model_copy(
        update={"registry_uri": "databricks-uc"})})
    assert registered_name(uc, spec) == "main.plt_ops.detector_" + spec.id.replace(".", "_")
    assert registered_name(fresh_settings, spec) == "detector_" + spec.id.replace(".", "_")


def test_analytics_models_share_the_unity_catalog_naming(fresh_settings):
    from lakesentinel.analytics.tracking import registered_name as analytics_name

    uc = fresh_settings.model_copy(update={"catalog": "main", "mlflow": fresh_settings.mlflow.model_copy(
        update={"registry_uri": "databricks-uc"})})
    assert analytics_name(uc, "cost_forecast") == "main.plt_features.cost_forecast"
    assert analytics_name(fresh_settings, "cost_forecast") == "lakesentinel_cost_forecast"
