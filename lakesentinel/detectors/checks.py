"""Generic checks every detector must pass; ``tests/detectors/test_all_detectors.py`` runs them all.

Each check takes a freshly built detector and raises ``AssertionError`` with a reason when the
detector breaks the contract of :class:`~lakesentinel.detectors.base.Detector`: inputs left alone,
scoring before learning, scores in [0, 1] that do not change the model, features that come and go,
checkpoints through pickle, clones that share nothing, seeded repeatability, bounded memory, and a
spike that scores above ordinary windows. A detector opts out of a check only through
``_unit_test_skips`` (check name -> reason).

>>> from lakesentinel.detectors import RobustQuantileDetector
>>> check_detector(RobustQuantileDetector(**RobustQuantileDetector._unit_test_params()))
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import numpy as np

from lakesentinel.detectors.base import Detector

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday


def series(n: int = 400, seed: int = 0, features: tuple[str, ...] = ("value",)) -> list[tuple[dict, datetime]]:
    """Hourly windows with a daily cycle and noise: what a detector sees from an ordinary entity."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = START + timedelta(hours=i)
        base = 10.0 + 5.0 * math.sin(2 * math.pi * t.hour / 24)
        x = {f: float(max(0.0, base * (1 + k * 0.5) + rng.normal(0, 1.0))) for k, f in enumerate(features)}
        out.append((x, t))
    return out


def _data(detector: Detector, n: int = 400, seed: int = 0) -> list[tuple[dict, datetime]]:
    names = ("value",) if detector.univariate else ("value", "other")
    return series(n, seed, names)


def _state(detector: Detector) -> bytes:
    return pickle.dumps(detector)


# ---- the checks ----------------------------------------------------------------------------------
def check_inputs_not_mutated(detector: Detector) -> None:
    for x, t in _data(detector, 200):
        before = copy.deepcopy(x)
        detector.score_one(x, t)
        detector.expected_one(x, t)
        detector.learn_one(x, t)
        assert x == before, f"{type(detector).__name__} changed its input {before} into {x}"


def check_score_before_learning(detector: Detector) -> None:
    x, t = _data(detector, 1)[0]
    score = detector.score_one(x, t)
    assert score == 0.0, f"a detector that has learned nothing must score 0, got {score}"
    assert isinstance(detector.expected_one(x, t), dict)


def check_scores_in_range(detector: Detector) -> None:
    data = _data(detector, 300)
    for x, t in data:
        detector.learn_one(x, t)
    extremes = [0.0, 1e-9, 1e9, -5.0, 10.0]
    names = list(data[0][0])
    for v in extremes:
        x = {n: v for n in names}
        s = detector.score_one(x, data[-1][1])
        assert isinstance(s, float) and 0.0 <= s <= 1.0, f"score {s!r} for {x} is not a float in [0, 1]"


def check_scoring_does_not_learn(detector: Detector) -> None:
    data = _data(detector, 300)
    for x, t in data[:250]:
        detector.learn_one(x, t)
    before = _state(detector)
    for x, t in data[250:]:
        detector.score_one(x, t)
        detector.expected_one(x, t)
    assert _state(detector) == before, "score_one or expected_one changed the model"


def check_missing_and_new_features(detector: Detector) -> None:
    data = _data(detector, 300)
    for x, t in data:
        detector.learn_one(x, t)
    x, t = data[-1]
    first = sorted(x)[0]
    variants = [
        {},  # nothing at all
        {k: v for k, v in x.items() if k != first} or {"unrelated": 1.0},  # one missing
        {**x, "brand_new": 3.0},  # one new
        dict(reversed(list(x.items()))),  # another order
        {k: None for k in x},  # values missing
        {k: float("nan") for k in x},
    ]
    for v in variants:
        s = detector.score_one(v, t)
        assert 0.0 <= s <= 1.0, f"score {s!r} for {v}"
        detector.expected_one(v, t)
        detector.learn_one(v, t)
    reordered = dict(reversed(list(x.items())))
    assert detector.score_one(reordered, t) == detector.score_one(x, t), "the order of features changed the score"


def check_pickle_round_trip(detector: Detector) -> None:
    data = _data(detector, 400, seed=1)
    for x, t in data[:200]:
        detector.learn_one(x, t)
    restored = pickle.loads(pickle.dumps(detector))
    for x, t in data[200:]:
        a, b = detector.score_one(x, t), restored.score_one(x, t)
        assert a == b, f"scores differ after a checkpoint: {a} != {b}"
        detector.learn_one(x, t)
        restored.learn_one(x, t)


def check_clone_is_fresh_and_independent(detector: Detector) -> None:
    data = _data(detector, 300, seed=2)
    fresh = detector.clone()
    for x, t in data[:200]:
        detector.learn_one(x, t)
    clone = detector.clone()
    assert _state(clone) == _state(fresh), "a clone of a trained detector must be untrained"
    before = _state(detector)
    for x, t in data[200:]:
        clone.learn_one(x, t)
    assert _state(detector) == before, "learning on a clone changed the original"
    assert clone._get_params() == detector._get_params()


def check_repeatable(detector: Detector) -> None:
    twin = detector.clone()
    for x, t in _data(detector, 300, seed=3):
        a, b = detector.score_one(x, t), twin.score_one(x, t)
        assert a == b, f"two detectors with the same parameters scored the same window {a} and {b}"
        detector.learn_one(x, t)
        twin.learn_one(x, t)


def check_bounded_memory(detector: Detector) -> None:
    data = _data(detector, 3000, seed=4)
    sizes = {}
    for i, (x, t) in enumerate(data, 1):
        detector.learn_one(x, t)
        if i in (1000, 3000):
            sizes[i] = len(pickle.dumps(detector))
    assert sizes[3000] <= sizes[1000] * 1.1 + 256, f"state grows without bound: {sizes}"


def check_spike_scores_high(detector: Detector) -> None:
    data = _data(detector, 400, seed=5)
    for x, t in data[:350]:
        detector.learn_one(x, t)
    ordinary = [detector.score_one(x, t) for x, t in data[350:]]
    x, t = data[-1]
    spike = {k: v * 20 + 200 for k, v in x.items()}
    s = detector.score_one(spike, t)
    assert s > float(np.median(ordinary)) and s >= 0.5, f"a spike scored {s}, ordinary windows {np.median(ordinary)}"


def check_defaults_immutable(detector: Detector) -> None:
    for name, p in inspect.signature(type(detector).__init__).parameters.items():
        if p.default is not inspect.Parameter.empty:
            assert not isinstance(p.default, (list, dict, set)), f"parameter {name!r} has a mutable default"
    for name in type(detector)._param_names():
        assert hasattr(detector, name), f"parameter {name!r} is not stored under its own name"


def check_has_example(detector: Detector) -> None:
    doc = inspect.getdoc(type(detector)) or ""
    assert "Examples" in doc and ">>>" in doc, f"{type(detector).__name__} needs a docstring with a runnable example"


CHECKS: tuple[Callable[[Detector], None], ...] = (
    check_inputs_not_mutated, check_score_before_learning, check_scores_in_range, check_scoring_does_not_learn,
    check_missing_and_new_features, check_pickle_round_trip, check_clone_is_fresh_and_independent,
    check_repeatable, check_bounded_memory, check_spike_scores_high, check_defaults_immutable, check_has_example,
)


def yield_checks(detector: Detector) -> Iterator[Callable[[Detector], None]]:
    """The checks that apply to ``detector`` (all, less its named skips)."""
    skips = type(detector)._unit_test_skips
    for check in CHECKS:
        if check.__name__ not in skips:
            yield check


def check_detector(detector: Detector) -> None:
    """Run every applicable check on clones of ``detector``; raise on the first failure."""
    for check in yield_checks(detector):
        check(detector.clone())
