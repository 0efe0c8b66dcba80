"""Every registered detector, every generic check (ids read ``Detector:check``)."""

import pytest

from lakesentinel.detectors import DETECTORS
from lakesentinel.detectors.checks import CHECKS, check_detector
from lakesentinel.detectors.robust import RobustQuantileDetector

# Configurations beyond each class's test parameters: the forecaster alternatives and directions.
EXTRA = {
    "ForecastResidualDetector[snarimax]": ("forecast_residual", {"forecaster": "snarimax", "season_length": 6,
                                                                  "order": (1, 0, 0), "seasonal_order": (0, 1, 0)}),
    "RobustQuantileDetector[both]": ("robust_quantile", {"direction": "both", "transform": "log1p",
                                                         "seasonality": "hour_of_day_weekend", "min_scale": 0.1}),
    "HalfSpaceTreesDetector[none]": ("half_space_trees", {"transform": "none", "n_trees": 5, "height": 4,
                                                          "window_size": 30, "limits": {"value": (0.0, 100.0)}}),
}


def _instances():
    for name, cls in sorted(DETECTORS.items(), key=lambda kv: kv[1].__name__):
        yield cls.__name__, cls(**cls._unit_test_params())
    for label, (name, params) in EXTRA.items():
        yield label, DETECTORS[name](**params)


CASES = [(label, det, check) for label, det in _instances() for check in CHECKS]


@pytest.mark.parametrize("label, detector, check", CASES,
                         ids=[f"{label}:{check.__name__}" for label, _, check in CASES])
def test_check(label, detector, check):
    reason = type(detector)._unit_test_skips.get(check.__name__)
    if reason:
        pytest.skip(reason)
    check(detector.clone())


def test_every_model_type_is_covered():
    covered = {type(det) for _, det, _ in CASES}
    assert covered == set(DETECTORS.values())


class Leaky(RobustQuantileDetector):
    """Learns while it scores.

    Examples
    --------
    >>> Leaky().score_one({"value": 1.0})
    0.0
    """

    def score_one(self, x, t=None):
        score = super().score_one(x, t)
        self.learn_one(x, t)
        return score


def test_a_broken_detector_fails_the_suite():
    """The suite itself bites: a detector that learns while scoring is caught."""
    with pytest.raises(AssertionError, match="changed the model"):
        check_detector(Leaky(**Leaky._unit_test_params()))
