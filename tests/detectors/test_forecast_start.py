"""Holt-Winters' start on an entity that was idle for its first seasons."""

from lakesentinel.detectors.forecast import ForecastResidualDetector


def test_a_first_season_of_zeros_starts_and_then_sees_a_surge():
    det = ForecastResidualDetector(season_length=4, start_seasons=2, transform="none")
    for _ in range(8):  # two idle seasons: River alone would divide by a zero level here
        det.learn_one({"cost": 0.0})
    quiet = det.score_one({"cost": 0.0})
    for _ in range(8):
        det.learn_one({"cost": 0.0})
    assert det.score_one({"cost": 50.0}) > quiet
