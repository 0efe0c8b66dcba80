"""The one interface every detector implements, and the helpers they share.

A detector is an online model of one entity's windowed features (a plain ``dict`` of floats). It
scores a window before learning it, returns a score in ``[0, 1]`` (higher is more anomalous, 0 while
it knows nothing) and says what it expected. ``t`` is the window's start, for models that follow
daily or weekly cycles; the others ignore it. A window that alerts is usually not learned (so that
the baseline stays clean); ``hold_one`` lets a sequence model keep its place in time instead.

Parameters are ``__init__`` arguments stored under the same name, with immutable defaults, so that
``clone()`` and ``repr()`` can read them back (River's convention).

>>> deviation_score(0.0), round(deviation_score(3.0, scale=3.0), 3), deviation_score(-2.0)
(0.0, 0.632, 0.0)
"""

from __future__ import annotations

import abc
import inspect
import math
from datetime import datetime
from typing import Any, ClassVar, Literal, Mapping

Direction = Literal["up", "down", "both"]
Transform = Literal["none", "log1p"]
Seasonality = Literal["none", "hour_of_day", "hour_of_day_weekend", "hour_of_week"]


class ShiftStatistic:
    """An EWMA control chart over a model's standardised deviations, for shifts too small to alert on
    one window but lasting several (a slower warehouse judged on a handful of statements an hour).

    Each window's deviation ``z`` is clipped to ``clip`` (one spike must not hold the chart up for
    hours; spikes alert on their own) and smoothed with weight ``smoothing``. A chart watching one
    direction does not go below zero on the other side (as a one-sided CUSUM), so quiet hours before
    a shift do not delay it. The chart is read in units of its own standard deviation under no shift,
    ``sqrt(smoothing / (2 - smoothing))``, so that it compares with one window's ``z``. ``smoothing``
    0 turns it off.

    >>> chart = ShiftStatistic(0.3)
    >>> round(chart.peek(2.5), 2)  # one window 2.5 spreads up: weak evidence
    1.79
    >>> for _ in range(6):
    ...     chart.update(2.5)
    >>> round(chart.peek(2.5), 2)  # the seventh in a row: strong evidence
    5.46
    """

    def __init__(self, smoothing: float, direction: Direction = "up", clip: float = 3.0):
        self.smoothing = smoothing
        self.direction = direction
        self.clip = clip
        self.value = 0.0

    def _next(self, z: float) -> float:
        z = max(-self.clip, min(self.clip, z))
        value = self.smoothing * z + (1.0 - self.smoothing) * self.value
        if self.direction == "up":
            return max(0.0, value)
        if self.direction == "down":
            return min(0.0, value)
        return value

    def peek(self, z: float) -> float:
        """The chart's standardised value if the window with deviation ``z`` were added."""
        if not self.smoothing > 0.0:
            return 0.0
        return self._next(z) / math.sqrt(self.smoothing / (2.0 - self.smoothing))

    def update(self, z: float) -> None:
        if self.smoothing > 0.0 and math.isfinite(z):
            self.value = self._next(z)


class Detector(abc.ABC):
    """Base of every detector: ``learn_one``, ``score_one`` and ``expected_one`` over a feature dict."""

    #: True when the detector reads exactly one feature (the spec loader enforces it).
    univariate: ClassVar[bool] = False
    #: Generic checks this detector opts out of, each with the reason (see ``checks.py``).
    _unit_test_skips: ClassVar[dict[str, str]] = {}
    #: The shift statistic off: what a state pickled before ``shift_smoothing`` existed reads (never
    #: updated, as updates with smoothing 0 do nothing).
    shift_smoothing = 0.0
    _shift = ShiftStatistic(0.0)

    @abc.abstractmethod
    def learn_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        """Update the model with one window's features."""

    @abc.abstractmethod
    def score_one(self, x: Mapping[str, float], t: datetime | None = None) -> float:
        """Anomaly score of one window in [0, 1]; must not change the model."""

    def expected_one(self, x: Mapping[str, float], t: datetime | None = None) -> dict[str, float]:
        """What the model expected for each feature it can predict (empty when it predicts none)."""
        return {}

    def hold_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        """A window passes without being learned (it alerted): models that count steps take one."""

    # ---- parameters ---------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def _get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self) -> "Detector":
        """A fresh, unlearned detector with the same parameters."""
        return type(self)(**self._get_params())

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        """Parameters the generic checks build the detector with (defaults unless overridden)."""
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._get_params().items())
        return f"{type(self).__name__}({params})"


def deviation_score(z: float, scale: float = 3.0) -> float:
    """Map a deviation in robust standard units to [0, 1): 0 at or below zero, 0.63 at ``scale``."""
    if not z > 0.0:  # also catches NaN
        return 0.0
    return 1.0 - math.exp(-z / scale)


def signed(z: float, direction: Direction) -> float:
    """The part of a signed deviation that counts for ``direction``."""
    if direction == "up":
        return z
    if direction == "down":
        return -z
    return abs(z)


def forward(value: float, transform: Transform) -> float:
    """Apply a value transform (``log1p`` of negative values is taken of their magnitude, sign kept)."""
    if transform == "log1p":
        return math.copysign(math.log1p(abs(value)), value)
    return value


def inverse(value: float, transform: Transform) -> float:
    if transform == "log1p":
        return math.copysign(math.expm1(abs(value)), value)
    return value


def pick_feature(x: Mapping[str, float], name: str | None) -> tuple[str, float] | None:
    """The (name, value) a univariate detector reads: the feature it learned first, or, before it has
    learned anything, the first name in sorted order. None when that value is missing or not a number.

    >>> pick_feature({"b": 2, "a": 1}, None), pick_feature({"b": 2, "a": 1}, "b"), pick_feature({"a": None}, "a")
    (('a', 1.0), ('b', 2.0), None)
    """
    if name is None:
        if not x:
            return None
        name = min(x)
    value = x.get(name)
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return (name, v) if math.isfinite(v) else None


def season_slot(t: datetime | None, seasonality: Seasonality) -> int | None:
    """Which seasonal slot a window starting at ``t`` (UTC) falls into, or None without seasonality.

    >>> from datetime import datetime, timezone
    >>> sat_9 = datetime(2026, 3, 7, 9, tzinfo=timezone.utc)
    >>> [season_slot(sat_9, s) for s in ("none", "hour_of_day", "hour_of_day_weekend", "hour_of_week")]
    [None, 9, 33, 129]
    """
    if t is None or seasonality == "none":
        return None
    hour, weekday = t.hour, t.weekday()
    if seasonality == "hour_of_day":
        return hour
    if seasonality == "hour_of_day_weekend":
        return hour + (24 if weekday >= 5 else 0)
    return weekday * 24 + hour
