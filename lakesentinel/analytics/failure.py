"""Probability that a job run fails or breaches its SLA, from its job's history and its compute.

A logistic regression over ``features_job_efficiency`` (standardised numbers, one-hot compute and
trigger): small, fast, and calibrated by construction, so its probabilities can be read as rates.
The named baseline is the job's own prior failure rate (the rate an on-call engineer would quote).
Evaluation reports ROC AUC for both, and calibration: mean predicted probability against the observed
rate, overall and per decile (expected calibration error).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NUMERIC = ["prior_runs", "prior_failure_rate", "prior_mean_duration_s", "prior_p90_duration_s",
           "prior_sla_breach_rate", "hours_since_last_run", "hour_of_day", "day_of_week", "sla_seconds",
           "last_run_failed"]
CATEGORICAL = ["compute_type", "trigger_type"]
FEATURES = NUMERIC + CATEGORICAL
LABEL = "label"  # failed, or finished over its SLA


def training_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Rows with a known outcome, features typed, and the label."""
    df = features[features["label_known"].fillna(False).astype(bool)].copy()
    df[LABEL] = (df["label_failed"].fillna(False).astype(bool) | df["label_sla_breach"].fillna(False).astype(bool)).astype(int)
    return df


def model_input(df: pd.DataFrame) -> pd.DataFrame:
    x = df.reindex(columns=FEATURES).copy()
    for c in NUMERIC:
        x[c] = pd.to_numeric(x[c], errors="coerce").astype(float)
    for c in CATEGORICAL:
        x[c] = x[c].astype("string").fillna("unknown").astype(str)
    return x


def build_model(c: float = 1.0):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=c, max_iter=1000))])


def fit(train: pd.DataFrame, c: float = 1.0):
    model = build_model(c)
    model.fit(model_input(train), train[LABEL].to_numpy())
    return model


@dataclass
class FailureScore:
    rows: int
    base_rate: float
    auc: float | None
    baseline_auc: float | None
    mean_predicted: float
    ece: float  # expected calibration error over predicted-probability deciles
    deciles: list[dict] = field(default_factory=list)


def evaluate(model, test: pd.DataFrame) -> FailureScore:
    from sklearn.metrics import roc_auc_score

    y = test[LABEL].to_numpy()
    p = model.predict_proba(model_input(test))[:, 1]
    baseline = pd.to_numeric(test["prior_failure_rate"], errors="coerce").fillna(y.mean()).to_numpy()
    both = len(set(y)) == 2
    bins = pd.qcut(pd.Series(p).rank(method="first"), q=min(10, len(p)), labels=False)
    deciles, ece = [], 0.0
    for b, idx in pd.Series(range(len(p))).groupby(bins.to_numpy()):
        pred, obs = float(p[idx].mean()), float(y[idx].mean())
        deciles.append({"bin": int(b), "rows": int(len(idx)), "predicted": pred, "observed": obs})
        ece += len(idx) / len(p) * abs(pred - obs)
    return FailureScore(rows=len(y), base_rate=float(y.mean()), auc=float(roc_auc_score(y, p)) if both else None,
                        baseline_auc=float(roc_auc_score(y, baseline)) if both else None,
                        mean_predicted=float(p.mean()), ece=float(ece), deciles=deciles)
