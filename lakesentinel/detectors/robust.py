"""Robust quantile detector: rolling median and inter-quartile range, optionally per seasonal slot."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from river import utils

from lakesentinel.detectors.base import (
    Detector, Direction, Seasonality, ShiftStatistic, Transform, deviation_score, forward, inverse, pick_feature,
    season_slot, signed,
)

# The inter-quartile range of a normal distribution is 1.349 standard deviations.
IQR_TO_SIGMA = 1.349


def _quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolated quantile of an already sorted list."""
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class RobustQuantileDetector(Detector):
    """Scores how far a value sits from the rolling median, in robust standard units.

    The baseline is the median and inter-quartile range of the last ``window_size`` values, or of
    the last ``slot_window`` values seen in the same seasonal slot (hour of day, hour of week, ...)
    once that slot holds ``min_slot_samples``. Medians and quartiles ignore the odd outlier, so one
    past spike does not blind the detector to the next.

    Parameters
    ----------
    window_size
        Values kept for the overall baseline.
    seasonality
        ``none``, ``hour_of_day``, ``hour_of_day_weekend`` (weekdays and weekends apart) or ``hour_of_week``.
    slot_window
        Values kept per seasonal slot.
    min_slot_samples
        Values a slot needs before it replaces the overall baseline.
    transform
        ``log1p`` compares ratios rather than differences (costs, durations).
    direction
        ``up``, ``down`` or ``both``: which deviations count.
    min_scale
        Smallest spread (in transformed units) a deviation is measured against: a floor for
        near-constant series.
    min_deviation
        Deviations smaller than this (in the metric's own units) score 0.
    score_scale
        Robust z at which the score reaches 0.63.
    shift_smoothing
        Also score a lasting shift: an EWMA of the windows' deviations (:class:`ShiftStatistic`) with
        this weight, for shifts too small to alert on one window. 0 (default) scores windows alone.

    Examples
    --------
    >>> det = RobustQuantileDetector(window_size=20, min_scale=0.5)
    >>> for v in [3, 4, 3, 5, 4, 3, 4, 4, 3, 5]:
    ...     det.learn_one({"failed": v})
    >>> round(det.score_one({"failed": 4}), 3), round(det.score_one({"failed": 12}), 3)
    (0.0, 0.973)
    >>> det.expected_one({"failed": 12})
    {'failed': 4.0}
    """

    univariate = True

    def __init__(self, window_size: int = 168, seasonality: Seasonality = "none", slot_window: int = 8,
                 min_slot_samples: int = 3, transform: Transform = "none", direction: Direction = "up",
                 min_scale: float = 0.0, min_deviation: float = 0.0, score_scale: float = 3.0,
                 shift_smoothing: float = 0.0):
        self.window_size = window_size
        self.seasonality = seasonality
        self.slot_window = slot_window
        self.min_slot_samples = min_slot_samples
        self.transform = transform
        self.direction = direction
        self.min_scale = min_scale
        self.min_deviation = min_deviation
        self.score_scale = score_scale
        self.shift_smoothing = shift_smoothing
        self._shift = ShiftStatistic(shift_smoothing, direction)
        self._all: utils.SortedWindow = utils.SortedWindow(size=window_size)
        self._slots: dict[int, utils.SortedWindow] = {}
        self._feature: str | None = None

    def _baseline(self, t: datetime | None) -> tuple[float, float] | None:
        slot = season_slot(t, self.seasonality)
        window = self._slots.get(slot) if slot is not None else None
        if window is None or len(window) < self.min_slot_samples:
            window = self._all
        if len(window) < max(1, self.min_slot_samples):
            return None
        ordered = window.data  # already sorted; read in place rather than copied
        spread = (_quantile(ordered, 0.75) - _quantile(ordered, 0.25)) / IQR_TO_SIGMA
        return _quantile(ordered, 0.5), max(spread, self.min_scale, 1e-12)

    def _z(self, value: float, t: datetime | None) -> float | None:
        baseline = self._baseline(t)
        if baseline is None:
            return None
        median, scale = baseline
        return (forward(value, self.transform) - median) / scale

    def learn_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        item = pick_feature(x, self._feature)
        if item is None:
            return
        self.hold_one(x, t)
        self._feature = item[0]
        v = forward(item[1], self.transform)
        self._all.append(v)
        slot = season_slot(t, self.seasonality)
        if slot is not None:
            self._slots.setdefault(slot, utils.SortedWindow(size=self.slot_window)).append(v)

    def hold_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        # An alerting window stays out of the baseline but still counts towards a lasting shift.
        item = pick_feature(x, self._feature)
        z = None if item is None else self._z(item[1], t)
        if z is not None:
            self._shift.update(z)

    def score_one(self, x: Mapping[str, float], t: datetime | None = None) -> float:
        item = pick_feature(x, self._feature)
        baseline = self._baseline(t)
        if item is None or baseline is None:
            return 0.0
        median, scale = baseline
        if abs(item[1] - inverse(median, self.transform)) < self.min_deviation:
            return 0.0
        z = (forward(item[1], self.transform) - median) / scale
        score = deviation_score(signed(z, self.direction), self.score_scale)
        return max(score, deviation_score(signed(self._shift.peek(z), self.direction), self.score_scale))

    def expected_one(self, x: Mapping[str, float], t: datetime | None = None) -> dict[str, float]:
        item = pick_feature(x, self._feature)
        baseline = self._baseline(t)
        if item is None or baseline is None:
            return {}
        return {item[0]: inverse(baseline[0], self.transform)}

    @classmethod
    def _unit_test_params(cls) -> dict:
        return {"window_size": 50, "seasonality": "hour_of_day", "min_scale": 0.1}
