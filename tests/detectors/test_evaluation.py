"""Event-level matching of detections to ground truth."""

import pandas as pd

from lakesentinel.detectors.evaluation import Evaluation, detections, evaluate_detections, truth_attributes

T0 = pd.Timestamp("2026-03-10", tz="UTC")
H = pd.Timedelta(hours=1)


def _scores(rows):
    """rows: (entity dict, start hour, severity or None)."""
    return pd.DataFrame({"entity": [r[0] for r in rows], "entity_id": ["/".join(r[0].values()) for r in rows],
                         "window_start": [T0 + r[1] * H for r in rows], "window_end": [T0 + (r[1] + 1) * H for r in rows],
                         "severity": [r[2] for r in rows], "score": [0.9 if r[2] else 0.1 for r in rows]})


def _truths(rows):
    """rows: (id, type, start hour, end hour, workspace, entity_type, entity_id, entities)."""
    frame = pd.DataFrame([{"scenario_id": r[0], "scenario_type": r[1], "start_time": T0 + r[2] * H,
                           "end_time": T0 + r[3] * H, "workspace_id": r[4], "entity_type": r[5], "entity_id": r[6],
                           "entities": r[7]} for r in rows])
    return truth_attributes(frame, skus={"s1": {"SKU_A"}})


def test_alerting_windows_merge_across_one_quiet_window_per_entity():
    a, b = {"warehouse_id": "w1"}, {"warehouse_id": "w2"}
    found = detections(_scores([(a, 0, "low"), (a, 1, None), (a, 2, "high"), (a, 5, "low"), (b, 1, "low")]), H)
    assert sorted((d.entity["warehouse_id"], d.windows, d.start.hour, d.end.hour) for d in found.itertuples()) == [
        ("w1", 1, 5, 6), ("w1", 2, 0, 3), ("w2", 1, 1, 2)]


def test_entities_must_agree_on_every_key_they_share():
    truths = _truths([("s1", "serverless_sql_spend_surge", 0, 6, "ws1", "warehouse", "w1", {"warehouse_id": "w1"})])
    scores = _scores([
        ({"workspace_id": "ws1", "sku_name": "SKU_A"}, 1, "high"),  # same workspace, billed SKU: a match
        ({"workspace_id": "ws1", "sku_name": "SKU_B"}, 1, "high"),  # a SKU the warehouse did not bill
        ({"workspace_id": "ws2", "sku_name": "SKU_A"}, 1, "high"),  # another workspace
        ({"cluster_id": "c9"}, 1, "high"),  # nothing in common with the scenario
    ])
    r = evaluate_detections(scores, truths, ["serverless_sql_spend_surge"], H, burn_in_end=T0 - 24 * H)
    assert (r.true_positives, r.false_positives, r.found) == (1, 3, {"serverless_sql_spend_surge": 1})


def test_precision_leaves_out_other_scenarios_and_the_burn_in():
    truths = _truths([
        ("s1", "runaway_cluster", 10, 24, "ws1", "cluster", "c1", {"cluster_id": "c1"}),
        ("s2", "job_failure_streak", 10, 16, "ws1", "job", "j1", {"job_id": "j1"}),
    ])
    scores = _scores([
        ({"cluster_id": "c1"}, 11, "high"),  # on target
        ({"job_id": "j1"}, 12, "high"),  # a real incident, of another type
        ({"cluster_id": "c2"}, 30, "low"),  # false
        ({"cluster_id": "c3"}, -30, "low"),  # during the burn-in
    ])
    r = evaluate_detections(scores, truths, ["runaway_cluster"], H, burn_in_end=T0)
    assert (r.detections, r.true_positives, r.other_incidents, r.false_positives, r.burn_in) == (4, 1, 1, 1, 1)
    assert r.precision == 0.5 and r.recall == {"runaway_cluster": 1.0}
    assert r.delays_minutes == {"runaway_cluster": [120.0]} and r.f1("runaway_cluster") == 2 / 3
    assert r.false_detections[0]["entity"] == {"cluster_id": "c2"}


def test_a_detection_just_after_the_scenario_still_counts_but_not_later():
    truths = _truths([("s1", "runaway_cluster", 0, 3, "ws1", "cluster", "c1", {"cluster_id": "c1"})])
    just_after = evaluate_detections(_scores([({"cluster_id": "c1"}, 3, "low")]), truths, ["runaway_cluster"], H,
                                     burn_in_end=T0 - 24 * H)
    too_late = evaluate_detections(_scores([({"cluster_id": "c1"}, 5, "low")]), truths, ["runaway_cluster"], H,
                                   burn_in_end=T0 - 24 * H)
    assert just_after.found == {"runaway_cluster": 1} and too_late.missed == ["s1"]


def test_runs_add_up():
    a = Evaluation(targets=["x"], detections=3, true_positives=2, false_positives=1, instances={"x": 2},
                   found={"x": 2}, delays_minutes={"x": [5.0, 9.0]})
    b = Evaluation(targets=["x"], detections=1, false_positives=1, instances={"x": 2}, found={}, missed=["s9"])
    total = a + b
    assert (total.true_positives, total.false_positives, total.instances, total.found) == (2, 2, {"x": 4}, {"x": 2})
    assert total.precision == 0.5 and total.recall == {"x": 0.5} and total.missed == ["s9"]
    assert total.delays_minutes == {"x": [5.0, 9.0]}
