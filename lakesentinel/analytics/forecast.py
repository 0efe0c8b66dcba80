"""Daily cost forecasts per workspace and per warehouse, with prediction intervals.

The model is exponential smoothing with an additive weekly season (ETS(A,N,A) or with a damped trend),
fitted per series by ``statsmodels`` on ``log1p`` of the daily list cost, so that intervals stay
positive and widen with the level. statsmodels because it is the long-maintained reference
implementation of ETS state-space models with analytic prediction intervals, and it fits in
milliseconds with no JIT compilation (statsforecast's numba warm-up costs tens of seconds per process,
more than every fit of a run together). The named baseline is the seasonal-naive forecast (the value a
week before); skill is MASE against it, scaled by the in-sample seasonal-naive error.

>>> import numpy as np
>>> y = np.array([10., 12, 11, 13, 30, 5, 4] * 4)
>>> seasonal_naive(y, 3).tolist()
[10.0, 12.0, 11.0]
>>> round(mase(y[-7:], y[-7:] + 1, y[:-7]), 3)
inf
>>> round(mase(np.array([1., 2]), np.array([2., 2]), np.array([1., 2, 3, 4, 5, 6, 7, 3])), 3)
0.25
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

SEASON = 7


@dataclass(frozen=True)
class ForecastParams:
    """What training chooses on the training seeds; the rest is fitted per series."""

    log_transform: bool = True
    damped_trend: bool = False
    level: float = 0.9  # nominal coverage of the prediction interval
    horizon: int = 28
    min_history: int = 2 * SEASON  # shorter series fall back to seasonal naive with empirical intervals

    def as_dict(self) -> dict:
        return asdict(self)


def seasonal_naive(history: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    """The baseline: each day's value is the same weekday's last value."""
    last = history[-season:]
    return np.array([last[i % season] for i in range(horizon)], dtype=float)


def mase(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, season: int = SEASON) -> float:
    """Mean absolute error scaled by the in-sample seasonal-naive error of ``history``."""
    scale = np.mean(np.abs(history[season:] - history[:-season])) if len(history) > season else np.nan
    err = np.mean(np.abs(np.asarray(actual, float) - np.asarray(predicted, float)))
    if not scale:
        return float("inf") if err else 0.0
    return float(err / scale)


def _naive_with_intervals(y: np.ndarray, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = seasonal_naive(y, horizon) if len(y) >= SEASON else np.full(horizon, float(np.mean(y)) if len(y) else 0.0)
    diffs = y[SEASON:] - y[:-SEASON] if len(y) > SEASON else y - np.mean(y) if len(y) else np.zeros(1)
    half = np.quantile(np.abs(diffs), level) if len(diffs) else 0.0
    return mean, np.maximum(mean - half, 0.0), mean + half


def forecast_series(y: np.ndarray, params: ForecastParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, lower and upper bound for the next ``params.horizon`` days after the daily values ``y``."""
    y = np.asarray(y, dtype=float)
    horizon = params.horizon
    if len(y) < params.min_history or np.allclose(y, y[0]):
        return _naive_with_intervals(y, horizon, params.level)
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    z = np.log1p(np.maximum(y, 0.0)) if params.log_transform else y
    # statsmodels labels predictions from the index: a plain array has none.
    z = pd.Series(z, index=pd.date_range("2000-01-03", periods=len(z), freq="D"))
    model = ETSModel(z, error="add", trend="add" if params.damped_trend else None,
                     damped_trend=params.damped_trend, seasonal="add", seasonal_periods=SEASON)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short, spiky series
        fit = model.fit(disp=False, maxiter=200)
        frame = fit.get_prediction(start=len(z), end=len(z) + horizon - 1).summary_frame(alpha=1 - params.level)
    mean, lo, hi = (frame[c].to_numpy() for c in ("mean", "pi_lower", "pi_upper"))
    if params.log_transform:
        mean, lo, hi = np.expm1(mean), np.expm1(lo), np.expm1(hi)
    if not np.all(np.isfinite(mean)):
        return _naive_with_intervals(y, horizon, params.level)
    return np.maximum(mean, 0.0), np.maximum(lo, 0.0), np.maximum(hi, 0.0)


def forecast_frame(history: pd.DataFrame, params: ForecastParams) -> pd.DataFrame:
    """Forecasts for every series of ``history`` (entity_type, entity_id, date, cost): one row per future day.

    Missing days inside a series count as zero spend; the forecast starts the day after the newest
    date of the whole frame, so every series is forecast over the same days.
    """
    out = []
    if history.empty:
        return pd.DataFrame(columns=["entity_type", "entity_id", "forecast_date", "horizon_day",
                                     "predicted_cost", "lower_cost", "upper_cost"])
    dates = pd.to_datetime(history["date"])
    end = dates.max()
    for (etype, eid), rows in history.assign(date=dates).groupby(["entity_type", "entity_id"]):
        s = rows.groupby("date")["cost"].sum().astype(float)
        s = s.reindex(pd.date_range(s.index.min(), end, freq="D"), fill_value=0.0)
        mean, lo, hi = forecast_series(s.to_numpy(), params)
        days = pd.date_range(end + pd.Timedelta(days=1), periods=params.horizon, freq="D")
        out.append(pd.DataFrame({"entity_type": etype, "entity_id": eid, "forecast_date": days.date,
                                 "horizon_day": np.arange(1, params.horizon + 1),
                                 "predicted_cost": mean, "lower_cost": lo, "upper_cost": hi}))
    return pd.concat(out, ignore_index=True)


@dataclass
class ForecastScore:
    """Held-out figures summed over series: model and baseline MASE, interval coverage."""

    series: int = 0
    model_mase: float = 0.0
    naive_mase: float = 0.0
    covered: int = 0
    points: int = 0

    @property
    def mase_ratio(self) -> float | None:
        return self.model_mase / self.naive_mase if self.naive_mase else None

    @property
    def coverage(self) -> float | None:
        return self.covered / self.points if self.points else None


def backtest(series: dict[tuple[str, str], np.ndarray], params: ForecastParams, horizon: int) -> ForecastScore:
    """Fit on all but the last ``horizon`` days of each series, score on them (series too flat are skipped)."""
    score = ForecastScore()
    p = ForecastParams(**{**params.as_dict(), "horizon": horizon})
    for y in series.values():
        train, test = y[:-horizon], y[-horizon:]
        if len(train) < 2 * SEASON or not np.any(train[SEASON:] != train[:-SEASON]):
            continue
        mean, lo, hi = forecast_series(train, p)
        m, n = mase(test, mean, train), mase(test, seasonal_naive(train, horizon), train)
        if not (np.isfinite(m) and np.isfinite(n)):
            continue
        score.series += 1
        score.model_mase += m
        score.naive_mase += n
        score.covered += int(np.sum((test >= lo) & (test <= hi)))
        score.points += len(test)
    return score
