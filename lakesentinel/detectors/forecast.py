"""Forecast-residual detector: a River forecaster predicts the next window, the residual is scored."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Literal, Mapping

from river import linear_model, optim, preprocessing, stats, time_series

from lakesentinel.detectors.base import (
    Detector, Direction, ShiftStatistic, Transform, deviation_score, forward, inverse, pick_feature, signed,
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
    huber_k
        Robust learning: a value further than ``huber_k`` spreads from its forecast is learned as if
        it were that far (Huber's psi, as in robust Holt-Winters), so one spike neither drags the
        forecast nor inflates the spread, while a lasting change is still followed, step by step.
        0 learns values as they are.
    start_seasons
        Seasons of values Holt-Winters starts from (median per position), before it forecasts.
    seasonal_spread
        Also keep a spread per position in the season, and measure a residual against the larger of
        the two: an hour that is often idle and sometimes busy (03:00 on a small warehouse) is noisy
        in its own way, and should not be judged by the calm of the working day.
    min_scale
        Floor of the residual spread, in transformed units.
    min_deviation
        Deviations smaller than this, in the metric's own units, score 0.
    score_scale
        Standardised residual at which the score reaches 0.63.
    shift_smoothing
        Also score a lasting shift: an EWMA of the standardised residuals (:class:`ShiftStatistic`)
        with this weight, for overruns too small to alert on one window. 0 (default) scores windows alone.

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
                 huber_k: float = 2.5, start_seasons: int = 3, seasonal_spread: bool = True, min_scale: float = 0.0, min_deviation: float = 0.0, score_scale: float = 3.0,
                 shift_smoothing: float = 0.0):
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
        self.huber_k = huber_k
        self.start_seasons = start_seasons
        self.seasonal_spread = seasonal_spread
        self.min_scale = min_scale
        self.min_deviation = min_deviation
        self.score_scale = score_scale
        self.shift_smoothing = shift_smoothing
        self._shift = ShiftStatistic(shift_smoothing, direction)
        self._model = self._build()
        self._spread = stats.EWMean(fading_factor=residual_fading)
        self._n = 0
        self._residuals = 0
        self._first: list[float] = []
        self._started = False
        self._feature: str | None = None
        self._position = 0  # steps since the start, modulo the season
        self._position_spread: dict[int, stats.EWMean] = {}

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
    def _seasonal_start(self) -> bool:
        return self.forecaster == "holt_winters" and self.season_length > 0

    @property
    def _ready(self) -> bool:
        if self._seasonal_start:
            return self._started
        return self._n > 2 + self.season_length  # SNARIMAX needs its differencing history

    def _forecast(self) -> float | None:
        if not self._ready:
            return None
        value = self._model.forecast(horizon=1)[0]
        return float(value) if value == value else None  # NaN guard

    def learn_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        item = pick_feature(x, self._feature)
        if item is None:
            return
        self._feature = item[0]
        v = forward(item[1], self.transform)
        self._n += 1
        if self._seasonal_start and not self._started:
            self._first.append(v)
            if len(self._first) == self.start_seasons * self.season_length:
                self._start()
            return
        predicted = self._forecast()
        if predicted is not None:
            residual = v - predicted
            if self._residuals:
                self._shift.update(residual / self._scale())
            if self.huber_k > 0 and self._residuals:
                bound = self.huber_k * self._scale()
                residual = max(-bound, min(bound, residual))
                v = predicted + residual
            self._spread.update(abs(residual))
            if self.seasonal_spread and self.season_length:
                self._slot_spread(self._position).update(abs(residual))
            self._residuals += 1
        self._model.learn_one(v)
        self._advance()

    def _slot_spread(self, position: int) -> stats.EWMean:
        # Each position is seen once a season, so it forgets faster than the overall spread.
        if position not in self._position_spread:
            self._position_spread[position] = stats.EWMean(fading_factor=min(1.0, 4 * self.residual_fading))
        return self._position_spread[position]

    def _advance(self) -> None:
        if self.season_length:
            self._position = (self._position + 1) % self.season_length

    def _start(self) -> None:
        """Start Holt-Winters from the median of the first seasons, position by position.

        One odd window in the first day (an idle hour, a spike) would otherwise stay in the season
        for weeks. River 0.26 also initialises an additive season as y / level (the multiplicative
        formula) and the trend as the mean step across the first season (for a daily cycle, the
        evening-minus-morning slope); the season is set to y - level and the trend to zero instead.
        """
        m = self.season_length
        profile = [statistics.median(self._first[i::m]) for i in range(m)]
        # River divides by the first level: a season of zeros (an SKU idle all day) would raise.
        shift = 1.0 if sum(profile) == 0 else 0.0
        for v in profile:
            self._model.learn_one(v + shift)
        self._model.level[-1] -= shift
        level = self._model.level[-1]
        self._model.season.clear()
        self._model.season.extend(v - level for v in profile)
        if self._model.trend is not None:
            self._model.trend.clear()
            self._model.trend.append(0.0)
        deviations = [abs(v - profile[i % m]) for i, v in enumerate(self._first)]
        self._spread.update(statistics.median(deviations))
        if self.seasonal_spread:
            for i in range(m):
                self._slot_spread(i).update(statistics.median(deviations[i::m]))
        self._position = len(self._first) % m
        self._residuals = 1
        self._first = []
        self._started = True

    def hold_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        # The season is a ring of positions: a skipped step would shift every later forecast by one.
        # Learn the forecast itself, which moves time on and leaves level, season and spread as they are.
        predicted = self._forecast()
        if predicted is None:
            self.learn_one(x, t)
            return
        item = pick_feature(x, self._feature)
        if item is not None and self._residuals:
            self._shift.update((forward(item[1], self.transform) - predicted) / self._scale())
        self._model.learn_one(predicted)
        self._n += 1
        self._advance()

    def _scale(self) -> float:
        spread = self._spread.get()
        if self.seasonal_spread and self._position in self._position_spread:
            spread = max(spread, self._position_spread[self._position].get())
        return max(MAD_TO_SIGMA * spread, self.min_scale, 1e-12)

    def score_one(self, x: Mapping[str, float], t: datetime | None = None) -> float:
        item = pick_feature(x, self._feature)
        predicted = self._forecast()
        if item is None or predicted is None or self._residuals == 0:
            return 0.0
        if abs(item[1] - inverse(predicted, self.transform)) < self.min_deviation:
            return 0.0
        z = (forward(item[1], self.transform) - predicted) / self._scale()
        score = deviation_score(signed(z, self.direction), self.score_scale)
        return max(score, deviation_score(signed(self._shift.peek(z), self.direction), self.score_scale))

    def expected_one(self, x: Mapping[str, float], t: datetime | None = None) -> dict[str, float]:
        item = pick_feature(x, self._feature)
        predicted = self._forecast()
        if item is None or predicted is None:
            return {}
        return {item[0]: max(0.0, inverse(predicted, self.transform)) if self.transform == "log1p"
                else inverse(predicted, self.transform)}

    @classmethod
    def _unit_test_params(cls) -> dict:
        return {"season_length": 6, "min_scale": 0.05}
