"""MLflow: evaluation runs (parameters, figures, the specs) and detector configurations as pyfunc models.

Tracking goes to ``mlflow.tracking_uri`` (a local store under ``LAKESENTINEL_HOME`` by default, the
Databricks workspace there); models register in ``mlflow.registry_uri`` (Unity Catalog on Databricks,
the tracking store's own registry otherwise).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from lakesentinel.detectors.evaluation import Evaluation
from lakesentinel.detectors.spec import DetectorSpec
from lakesentinel.errors import LakeSentinelError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

MODEL_CODE = Path(__file__).with_name("mlflow_model.py")


class TrackingError(LakeSentinelError):
    """MLflow could not be reached or refused a run or a model."""


def _mlflow(cfg: Settings):
    # MLflow 3 keeps its file store in maintenance mode behind this switch; the local default uses it
    # so that runs sit in plain files under LAKESENTINEL_HOME (a sqlite:/// URI works as well).
    if (cfg.mlflow.tracking_uri or "").startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow

    if cfg.mlflow.tracking_uri:
        mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    if cfg.mlflow.registry_uri:
        mlflow.set_registry_uri(cfg.mlflow.registry_uri)
    try:
        mlflow.set_experiment(cfg.mlflow.experiment)
    except Exception as exc:
        raise TrackingError(f"MLflow at {cfg.mlflow.tracking_uri or 'the default URI'}: cannot use experiment "
                            f"{cfg.mlflow.experiment!r} (key 'mlflow.experiment' in {cfg.config_file}): {exc}") from exc
    return mlflow


def _flat(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value if not isinstance(value, (list, tuple)) else ",".join(map(str, value))
    return out


def spec_params(spec: DetectorSpec) -> dict[str, str]:
    """A spec's settings as flat MLflow parameters (``model.params.alpha`` ...)."""
    data = spec.to_dict()
    data.pop("description", None)
    data["alert"].pop("title", None)
    data["alert"].pop("summary", None)
    return {k: str(v)[:500] for k, v in _flat("", data, {}).items()}


def _metric_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", text)


def evaluation_metrics(evaluation: Evaluation) -> dict[str, float]:
    metrics: dict[str, float] = {"detections": evaluation.detections, "true_positives": evaluation.true_positives,
                                 "false_positives": evaluation.false_positives,
                                 "other_incidents": evaluation.other_incidents, "burn_in_detections": evaluation.burn_in}
    if evaluation.precision is not None:
        metrics["precision"] = evaluation.precision
    for scenario, n in evaluation.instances.items():
        metrics[_metric_name(f"instances.{scenario}")] = n
        recall = evaluation.recall.get(scenario)
        if recall is not None:
            metrics[_metric_name(f"recall.{scenario}")] = recall
        f1 = evaluation.f1(scenario)
        if f1 is not None:
            metrics[_metric_name(f"f1.{scenario}")] = f1
        delays = evaluation.delays_minutes.get(scenario)
        if delays:
            metrics[_metric_name(f"delay_median_minutes.{scenario}")] = float(pd.Series(delays).median())
            metrics[_metric_name(f"delay_max_minutes.{scenario}")] = float(max(delays))
    return metrics


def _input_example() -> pd.DataFrame:
    return pd.DataFrame({"timestamp": pd.date_range("2026-03-02", periods=3, freq="h"),  # naive: UTC
                         "value": [1.0, 2.0, 40.0]})


def log_detector_model(spec: DetectorSpec, register: str | None = None):
    """Log one spec as a pyfunc model in the active run; register it under ``register`` if given."""
    import mlflow
    from mlflow.models import infer_signature

    from lakesentinel.detectors.mlflow_model import score_frame

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(yaml.safe_dump(spec.to_dict(), sort_keys=False))
        example = _input_example()
        signature = infer_signature(example, score_frame(spec, example))
        info = mlflow.pyfunc.log_model(
            name=re.sub(r"[^A-Za-z0-9_\-]", "_", spec.id), python_model=str(MODEL_CODE),
            artifacts={"spec": str(path)}, signature=signature, input_example=example,
            pip_requirements=_requirements(), registered_model_name=register)
    return info


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("river", "pandas", "pydantic", "pyyaml", "jsonschema",
                                                    "pyspark", "numpy")]


def registered_name(cfg: Settings, spec: DetectorSpec) -> str:
    """Registry name of a detector: ``catalog.plt_ops.detector_<id>`` in Unity Catalog, plain otherwise."""
    return Lakehouse(cfg).model("ops", "detector_" + re.sub(r"[^A-Za-z0-9_]", "_", spec.id))


def log_evaluation(cfg: Settings, specs: list[DetectorSpec], evaluations: dict[str, Evaluation],
                   plan_params: dict, per_seed: list[dict] | None = None, register: bool = False) -> str:
    """One parent run for the evaluation, one nested run per detector (params, figures, model); its id."""
    mlflow = _mlflow(cfg)
    try:
        with mlflow.start_run(run_name="detectors evaluate") as parent:
            mlflow.log_params({k: str(v) for k, v in plan_params.items()})
            mlflow.set_tags({"lakesentinel.kind": "detector-evaluation"})
            if per_seed:
                mlflow.log_dict({"seeds": per_seed}, "per_seed.json")
            for spec in specs:
                with mlflow.start_run(run_name=spec.id, nested=True):
                    mlflow.set_tags({"lakesentinel.detector": spec.id, "lakesentinel.model": spec.model.type})
                    mlflow.log_params(spec_params(spec))
                    evaluation = evaluations.get(spec.id)
                    if evaluation is not None:
                        mlflow.log_metrics(evaluation_metrics(evaluation))
                        mlflow.log_dict({"missed": evaluation.missed, "false_detections": evaluation.false_detections},
                                        "detections.json")
                    log_detector_model(spec, registered_name(cfg, spec) if register else None)
            return parent.info.run_id
    except LakeSentinelError:
        raise
    except Exception as exc:
        raise TrackingError(f"MLflow at {cfg.mlflow.tracking_uri or 'the default URI'} refused the evaluation run: "
                            f"{exc}") from exc
