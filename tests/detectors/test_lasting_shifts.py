"""Two ways a detector sees what one window alone hides: a lasting shift (EWMA of deviations) and a new
entity's first spend (judged against the idle windows before it)."""

import random

import pytest

from lakesentinel.detectors.entity import US, EntityScorer
from lakesentinel.detectors.forecast import ForecastResidualDetector
from lakesentinel.detectors.robust import RobustQuantileDetector
from lakesentinel.detectors.spec import DetectorSpecError
from tests.detectors.conftest import make_spec

HOUR = 3600 * US


def _noise(n, seed=7, sigma=1.0):
    rng = random.Random(seed)
    return [rng.gauss(0.0, sigma) for _ in range(n)]


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_a_lasting_shift_of_two_and_a_half_spreads_alerts_only_with_the_shift_statistic(smoothing):
    det = RobustQuantileDetector(window_size=200, min_scale=0.1, shift_smoothing=smoothing)
    for v in _noise(200):
        det.learn_one({"v": 10.0 + v})
    scores = []
    for _ in range(8):  # 2.5 spreads up, window after window; held back as an alerting window would be
        x = {"v": 12.5}
        scores.append(det.score_one(x))
        det.hold_one(x)
    single = 1 - 2.718281828 ** (-2.5 / 3.0)  # what one window of 2.5 spreads scores
    if smoothing:
        assert scores[0] == pytest.approx(single, abs=0.08)  # the first window is no stronger than alone
        assert scores[-1] > 0.8 > scores[0]
        assert scores == sorted(scores)
    else:
        assert max(scores) < 0.6


def test_one_spike_does_not_keep_the_shift_statistic_up():
    det = RobustQuantileDetector(window_size=200, min_scale=0.1, shift_smoothing=0.3)
    for v in _noise(200):
        det.learn_one({"v": 10.0 + v})
    assert det.score_one({"v": 40.0}) > 0.99
    det.hold_one({"v": 40.0})  # the spike alerted and was held back
    after = det.score_one({"v": 10.0})
    assert after < 0.6, "a clipped spike leaves the chart well below an alert"


def test_forecast_residuals_feed_the_shift_statistic_too():
    plain = ForecastResidualDetector(season_length=4, start_seasons=2, transform="none", min_scale=0.5)
    shifted = ForecastResidualDetector(season_length=4, start_seasons=2, transform="none", min_scale=0.5,
                                       shift_smoothing=0.3)
    for det in (plain, shifted):
        for i, v in enumerate(_noise(80, seed=3)):
            det.learn_one({"cost": 10.0 + (i % 4) + v})
    for det in (plain, shifted):
        for _ in range(6):
            det.hold_one({"cost": 14.0})  # about 3 spreads above each hour's usual
    assert shifted.score_one({"cost": 14.0}) > plain.score_one({"cost": 14.0}) + 0.1


def test_states_pickled_before_the_shift_statistic_load_with_it_off():
    det = RobustQuantileDetector(window_size=10)
    state = dict(det.__dict__)
    del state["_shift"], state["shift_smoothing"]
    old = RobustQuantileDetector.__new__(RobustQuantileDetector)
    old.__dict__.update(state)  # what unpickling does
    for v in (1.0, 2.0, 1.5):
        old.learn_one({"v": v})
    assert old.shift_smoothing == 0.0 and old.score_one({"v": 1.5}) == 0.0


# ---- idle before -------------------------------------------------------------------------------------
def _sku_spec(idle_before=True, empty=""):
    return make_spec(f"""
id: test.new_spend
domain: cost
metric:
  source: billing.usage
  entity: [workspace_id, sku_name]
  entity_type: sku
  window: {{size: 1h{", empty: " + empty if empty else ""}}}
  features: [{{name: list_cost, measure: list_cost, agg: sum}}]
model: {{type: forecast_residual, params: {{season_length: 24, transform: none, min_scale: 1.0, min_deviation: 15.0}}}}
warmup: {{windows: 72, max_severity: info, idle_before: {str(idle_before).lower()}}}
alert: {{severity: {{low: 0.8, high: 0.97}}, title: t}}
""")


def _first_day(scorer, state):
    start = 500 * HOUR
    scorer.add_rows(state, [start + h * HOUR for h in range(6)], {"list_cost": [30.0] * 6})
    return scorer.close(state, start + 6 * HOUR)


def test_a_new_entity_in_a_running_stream_is_judged_against_idle_windows_and_stays_cold():
    scorer = EntityScorer(_sku_spec())
    out = _first_day(scorer, scorer.new_state(stream_running=True))
    assert [w.window_start_us // HOUR for w in out] == list(range(500, 506)), "idle windows are not emitted"
    first = out[0]
    assert first.expected == pytest.approx(0.0, abs=1e-9) and first.score > 0.97
    assert first.cold_start and first.severity == "info", "cold until it has learned its own warm-up"
    assert all(w.cold_start for w in out)


def test_an_entity_of_the_first_batch_has_an_unknown_past_and_is_not_judged():
    scorer = EntityScorer(_sku_spec())
    out = _first_day(scorer, scorer.new_state(stream_running=False))
    assert [w.score for w in out] == [0.0] * 6 and not any(w.severity for w in out)


def test_idle_before_is_off_unless_the_spec_asks():
    scorer = EntityScorer(_sku_spec(idle_before=False))
    out = _first_day(scorer, scorer.new_state(stream_running=True))
    assert not any(w.severity for w in out)


def test_idle_before_needs_empty_windows_to_be_zeros():
    with pytest.raises(DetectorSpecError) as err:
        _sku_spec(empty="skip")
    assert "test.yaml" in str(err.value) and "warmup.idle_before" in str(err.value)
    assert "empty: zero" in str(err.value)
