"""Forecast-residual detector: a River forecaster predicts the next window, the residual is scored."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Mapping

from river import linear_model, optim, preprocessing, stats, time_series

from lakesentinel.detectors.base import (
    Detector, Direction, Transform, deviation_score, forward, inverse, only_feature, signed,
)

# For a normal residual, the mean absolute deviation is sigma * sqrt(2 / pi).
MAD_TO_SIGMA = 1.2533


class ForecastResidualDetector(Detector):
    """Scores the gap between a window's value and a one-step forecast of it.

    The forecaster is River's Holt-Winters (level, optional trend, additive season of
    ``season_length`` windows) or SNARIMAX. On ``log1p`` values an additive season is a
    multiplicative one in the metric's units, and zero-cost hours stay well defined. The residual's
    spread is an exponentially weighted mean of absolute residuals, so the detector adapts to how
    noisy each entity is.

    Parameters
    ----------
    forecaster
        ``holt_winters`` or ``snarimax``.
    season_length
        Windows per season (24 for hourly windows with a daily cycle; 0 for none).
    alpha, beta, gamma
        Holt-Winters smoothing of level, trend and season (River's seasonal Holt-Winters needs a
        trend; a small ``beta`` keeps it near flat).
    order
        SNARIMAX (p, d, q).
    seasonal_order
        SNARIMAX seasonal (P, D, Q) over ``season_length``.
    transform
        ``log1p`` (default) or ``none``.
    direction
        ``up``, ``down`` or ``both``.
    residual_fading
        Fading factor of the residual spread (higher adapts faster).
    min_scale
        Floor of the residual spread, in transformed units.
    min_deviation
        Deviations smaller than this, in the metric's own units, score 0.
    score_scale
        Standardised residual at which the score reaches 0.63.

    Examples
    --------
    A daily cycle of four windows, learned for a few days, then a spike:

    >>> det = ForecastResidualDetector(season_length=4, min_scale=0.05)
    >>> for day in range(6):
    ...     for v in (1.0, 5.0, 9.0, 3.0):
    ...         det.learn_one({"cost": v})
    >>> round(det.expected_one({"cost": 0})["cost"], 1)
    1.0
    >>> det.score_one({"cost": 1.1}) < 0.5 < det.score_one({"cost": 20.0})
    True
    """

    univariate = True

    def __init__(self, forecaster: Literal["holt_winters", "snarimax"] = "holt_winters", season_length: int = 24,
                 alpha: float = 0.3, beta: float = 0.01, gamma: float = 0.2,
                 order: tuple[int, int, int] = (1, 0, 0), seasonal_order: tuple[int, int, int] = (0, 1, 0),
                 transform: Transform = "log1p", direction: Direction = "up", residual_fading: float = 0.05,
                 min_scale: float = 0.0, min_deviation: float = 0.0, score_scale: float = 3.0):
        self.forecaster = forecaster
        self.season_length = season_length
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.order = tuple(order)
        self.seasonal_order = tuple(seasonal_order)
        self.transform = transform
        self.direction = direction
        self.residual_fading = residual_fading
        self.min_scale = min_scale
        self.min_deviation = min_deviation
        self.score_scale = score_scale
        self._model = self._build()
        self._spread = stats.EWMean(fading_factor=residual_fading)
        self._n = 0
        self._residuals = 0
        self._first: list[float] = []

    def _build(self):
        if self.forecaster == "snarimax":
            p, d, q = self.order
            sp, sd, sq = self.seasonal_order
            return time_series.SNARIMAX(
                p=p, d=d, q=q, m=max(1, self.season_length), sp=sp, sd=sd, sq=sq,
                regressor=preprocessing.StandardScaler() | linear_model.LinearRegression(
                    optimizer=optim.SGD(0.01), intercept_lr=0.1))
        return time_series.HoltWinters(alpha=self.alpha, beta=self.beta,
                                       gamma=self.gamma if self.season_length else None,
                                       seasonality=self.season_length)

    @property
    def _ready(self) -> bool:
        # Holt-Winters initialises from its first season; SNARIMAX needs its differencing history.
        return self._n > max(2, self.season_length + 1)

    def _forecast(self) -> float | None:
        if not self._ready:
            return None
        value = self._model.forecast(horizon=1)[0]
        return float(value) if value == value else None  # NaN guard

    def learn_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        item = only_feature(x)
        if item is None:
            return
        v = forward(item[1], self.transform)
        predicted = self._forecast()
        if predicted is not None:
            self._spread.update(abs(v - predicted))
            self._residuals += 1
        self._model.learn_one(v)
        self._n += 1
        if self.forecaster == "holt_winters" and self.season_length and self._n <= self.season_length:
            self._first.append(v)
            if self._n == self.season_length:
                self._start_flat()

    def _start_flat(self) -> None:
        # River 0.26 initialises an additive Holt-Winters season as y / level (the multiplicative
        # formula) and the trend as the mean step across the first season, which for a daily cycle is
        # the evening-minus-morning slope. Both take weeks to fade; start from y - level and no trend.
        level = self._model.level[-1]
        self._model.season.clear()
        self._model.season.extend(v - level for v in self._first)
        if self._model.trend is not None:
            self._model.trend.clear()
            self._model.trend.append(0.0)
        self._first = []

    def score_one(self, x: Mapping[str, float], t: datetime | None = None) -> float:
        item = only_feature(x)
        predicted = self._forecast()
        if item is None or predicted is None or self._residuals == 0:
            return 0.0
        if abs(item[1] - inverse(predicted, self.transform)) < self.min_deviation:
            return 0.0
        scale = max(MAD_TO_SIGMA * self._spread.get(), self.min_scale, 1e-12)
        z = (forward(item[1], self.transform) - predicted) / scale
        return deviation_score(signed(z, self.direction), self.score_scale)

    def expected_one(self, x: Mapping[str, float], t: datetime | None = None) -> dict[str, float]:
        item = only_feature(x)
        predicted = self._forecast()
        if item is None or predicted is None:
            return {}
        return {item[0]: max(0.0, inverse(predicted, self.transform)) if self.transform == "log1p"
                else inverse(predicted, self.transform)}

    @classmethod
    def _unit_test_params(cls) -> dict:
        return {"season_length": 6, "min_scale": 0.05}
