"""Half-Space Trees detector: a River pipeline (value transform, then HalfSpaceTrees) over several features."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Mapping

from river import anomaly, compose, stats

from lakesentinel.detectors.base import Detector, Transform, forward


def _log1p_features(x: dict) -> dict:
    return {k: math.log1p(v) if v > 0 else 0.0 for k, v in x.items()}


def _clean(x: Mapping[str, float]) -> dict[str, float]:
    """Numeric, finite features only: a missing value is a missing feature, which the trees tolerate."""
    out = {}
    for k, v in x.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[k] = f
    return out


class HalfSpaceTreesDetector(Detector):
    """Several features of a window scored together by River's Half-Space Trees.

    Features go through ``transform`` and are placed in fixed ranges (``limits``, in the metric's
    own units; ``upper`` for features without one), which suits counts and durations better than
    an online min-max scaler: a feature that was always 0 still shows its first burst. The trees
    learn the mass of each region over windows of ``window_size`` observations; a window landing
    where little mass has been seen scores high. The score is River's, in [0, 1], after the trees'
    first window.

    Parameters
    ----------
    n_trees, height, window_size
        Half-Space Trees' own parameters; state grows as ``n_trees * 2 ** (height + 1)``.
    transform
        ``log1p`` (default) or ``none``.
    upper
        Upper end of the range of features without an entry in ``limits``.
    limits
        Feature name -> (low, high) in the metric's units.
    seed
        Seed of the trees' random splits: the same seed gives the same trees, hence the same scores.
    expected_fading
        Fading factor of the per-feature running mean reported as the expected value.

    Examples
    --------
    >>> det = HalfSpaceTreesDetector(n_trees=5, height=4, window_size=20, upper=100, seed=1)
    >>> for i in range(60):
    ...     det.learn_one({"failed_logins": i % 2, "secret_reads": 0})
    >>> quiet = det.score_one({"failed_logins": 1, "secret_reads": 0})
    >>> burst = det.score_one({"failed_logins": 30, "secret_reads": 0})
    >>> quiet < 0.5 < burst
    True
    """

    def __init__(self, n_trees: int = 10, height: int = 6, window_size: int = 168, transform: Transform = "log1p",
                 upper: float = 1000.0, limits: dict[str, tuple[float, float]] | None = None, seed: int = 42,
                 expected_fading: float = 0.05):
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.transform = transform
        self.upper = upper
        self.limits = limits
        self.seed = seed
        self.expected_fading = expected_fading
        self._pipeline: compose.Pipeline | None = None
        self._means: dict[str, stats.EWMean] = {}

    def _build(self, features: list[str]) -> compose.Pipeline:
        own = dict(self.limits or {})
        limits = {}
        for name in sorted(features):
            lo, hi = own.get(name, (0.0, self.upper))
            limits[name] = (forward(lo, self.transform), forward(hi, self.transform))
        trees = anomaly.HalfSpaceTrees(n_trees=self.n_trees, height=self.height, window_size=self.window_size,
                                       limits=limits, seed=self.seed)
        if self.transform == "log1p":
            return compose.Pipeline(compose.FuncTransformer(_log1p_features), trees)
        return compose.Pipeline(trees)

    def learn_one(self, x: Mapping[str, float], t: datetime | None = None) -> None:
        features = _clean(x)
        if not features:
            return
        if self._pipeline is None:
            self._pipeline = self._build(list(features))
        self._pipeline.learn_one(features)
        for k, v in features.items():
            self._means.setdefault(k, stats.EWMean(fading_factor=self.expected_fading)).update(v)

    def score_one(self, x: Mapping[str, float], t: datetime | None = None) -> float:
        features = _clean(x)
        if self._pipeline is None or not features:
            return 0.0
        return float(min(1.0, max(0.0, self._pipeline.score_one(features))))

    def expected_one(self, x: Mapping[str, float], t: datetime | None = None) -> dict[str, float]:
        return {k: m.get() for k, m in self._means.items() if k in x}

    @classmethod
    def _unit_test_params(cls) -> dict:
        return {"n_trees": 5, "height": 4, "window_size": 30, "upper": 100.0}
