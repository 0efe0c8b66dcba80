"""A detector configuration as an MLflow pyfunc model ("models from code": MLflow loads this file).

The model holds one spec (the ``spec`` artifact, YAML). ``predict`` takes a frame with ``timestamp``
and ``value`` (the spec's first feature; other feature columns are used when present) and, optionally,
``entity`` (series scored apart, each from a fresh state), and returns, per row, ``anomaly_score``,
``expected``, ``severity`` and ``cold_start``. Each row is one observation, in time order per entity.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


def score_frame(spec, frame: pd.DataFrame) -> pd.DataFrame:
    """Score a frame of observations with a spec (see the module docstring for the columns)."""
    from lakesentinel.detectors.entity import EntityScorer

    scorer = EntityScorer(spec)
    names = [name for name, _ in scorer.features]
    times = (pd.to_datetime(frame["timestamp"], utc=True).astype("int64") // 1000).tolist()
    entities = frame["entity"].astype(str).tolist() if "entity" in frame.columns else [""] * len(frame)
    columns = {name: frame[name].tolist() for name in names if name in frame.columns}
    if "value" in frame.columns:
        columns[scorer.primary] = frame["value"].tolist()
    order = sorted(range(len(frame)), key=lambda i: (entities[i], times[i], i))
    states: dict[str, object] = {}
    scored: list[tuple] = [()] * len(frame)
    for i in order:
        state = states.get(entities[i])
        if state is None:
            state = states[entities[i]] = scorer.new_state()
        w = scorer.score_point(state, times[i], {name: values[i] for name, values in columns.items()})
        scored[i] = (w.score, w.expected, w.severity, w.cold_start)
    return pd.DataFrame(scored, columns=["anomaly_score", "expected", "severity", "cold_start"])


class DetectorModel(PythonModel):
    """Scores series with the detector configuration logged beside it."""

    def load_context(self, context) -> None:
        from lakesentinel.detectors.spec import parse_spec

        path = Path(context.artifacts["spec"])
        self.spec = parse_spec(path.read_text(), str(path))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        return score_frame(self.spec, model_input)


mlflow.models.set_model(DetectorModel())
