"""MLflow for the analytics models: runs with parameters and figures, models with a signature and an
input example, registered under names from configuration (Unity Catalog on Databricks, the local
registry of the tracking store on the embedded default)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lakesentinel.analytics import failure, risk
from lakesentinel.analytics.forecast import ForecastParams, forecast_frame
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

try:
    import mlflow.pyfunc as _pyfunc

    _Base = _pyfunc.PythonModel
except ImportError:  # pragma: no cover - mlflow is a base requirement
    _Base = object

MODELS = ("cost_forecast", "job_failure", "security_risk")


def registered_name(cfg: Settings, model: str) -> str:
    """``catalog.plt_features.<model>`` in Unity Catalog, ``lakesentinel_<model>`` in a local registry."""
    return Lakehouse(cfg).model("features", model, local_prefix="lakesentinel_")


class CostForecastModel(_Base):
    """pyfunc: daily history (entity_type, entity_id, date, cost) in, one row per future day out."""

    def __init__(self, params: ForecastParams):
        self.params = params

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        out = forecast_frame(model_input, self.params)
        out["forecast_date"] = out["forecast_date"].astype(str)
        return out


class SecurityRiskModel(_Base):
    """pyfunc: security surface features in, the score and each term's points out."""

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        t = risk.terms(model_input)
        return t.assign(risk_score=t.sum(axis=1))


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{n}=={version(n)}" for n in ("pandas", "numpy", "statsmodels", "scikit-learn", "scipy")]


def log_models(cfg: Settings, plan_params: dict, figures: dict, forecast_params: ForecastParams,
               forecast_example: pd.DataFrame, failure_model, failure_example: pd.DataFrame,
               risk_example: pd.DataFrame, register: bool = True) -> str:
    """One parent run (the plan and headline figures), one nested run per model; the parent's run id."""
    from mlflow.models import infer_signature

    from lakesentinel.detectors.tracking import _mlflow

    mlflow = _mlflow(cfg)

    def reg(model: str) -> str | None:
        return registered_name(cfg, model) if register else None

    with mlflow.start_run(run_name="models evaluate") as parent:
        mlflow.set_tags({"lakesentinel.kind": "analytics-models"})
        mlflow.log_params({k: str(v)[:500] for k, v in plan_params.items()})
        mlflow.log_metrics({k: float(v) for k, v in figures.items() if isinstance(v, (int, float)) and v is not None
                            and np.isfinite(v)})
        with mlflow.start_run(run_name="cost_forecast", nested=True):
            mlflow.log_params(forecast_params.as_dict() | {"baseline": "seasonal_naive_7d", "library": "statsmodels ETS"})
            _metrics(mlflow, figures, ("forecast_",))
            model = CostForecastModel(forecast_params)
            out = model.predict(None, forecast_example)
            mlflow.pyfunc.log_model(name="cost_forecast", python_model=model,
                                    signature=infer_signature(forecast_example, out), input_example=forecast_example,
                                    pip_requirements=_requirements(), registered_model_name=reg("cost_forecast"))
        with mlflow.start_run(run_name="job_failure", nested=True):
            mlflow.log_params({"model": "logistic_regression", "baseline": "job prior failure rate",
                               "features": ",".join(failure.FEATURES)})
            _metrics(mlflow, figures, ("failure_",))
            x = failure.model_input(failure_example)
            import mlflow.sklearn

            mlflow.sklearn.log_model(failure_model, name="job_failure",
                                     signature=infer_signature(x, failure_model.predict_proba(x)[:, 1]),
                                     input_example=x, pip_requirements=_requirements(),
                                     skops_trusted_types=["numpy.dtype"],  # the imputer keeps dtypes
                                     registered_model_name=reg("job_failure"))
        with mlflow.start_run(run_name="security_risk", nested=True):
            mlflow.log_params({f"weight.{k}": v for k, v in risk.WEIGHTS.items()})
            _metrics(mlflow, figures, ("risk_",))
            model = SecurityRiskModel()
            mlflow.pyfunc.log_model(name="security_risk", python_model=model,
                                    signature=infer_signature(risk_example, model.predict(None, risk_example)),
                                    input_example=risk_example, pip_requirements=_requirements(),
                                    registered_model_name=reg("security_risk"))
        return parent.info.run_id


def _metrics(mlflow, figures: dict, prefixes: tuple[str, ...]) -> None:
    mlflow.log_metrics({re.sub(r"[^A-Za-z0-9_\-./ ]", "_", k): float(v) for k, v in figures.items()
                        if k.startswith(prefixes) and isinstance(v, (int, float)) and np.isfinite(v)})


def list_models(cfg: Settings) -> list[dict]:
    """Registered analytics models with their latest version."""
    from lakesentinel.detectors.tracking import _mlflow

    mlflow = _mlflow(cfg)
    client = mlflow.MlflowClient()
    out = []
    for model in MODELS:
        name = registered_name(cfg, model)
        try:
            versions = client.search_model_versions(f"name='{name}'")
        except Exception:  # not registered yet
            versions = []
        latest = max(versions, key=lambda v: int(v.version)) if versions else None
        out.append({"model": model, "name": name, "latest_version": latest.version if latest else None,
                    "run_id": latest.run_id if latest else None})
    return out
