"""One entity's windows: closing in order, zero-fill, lateness, warm-up, alerting and batch invariance."""

import random

import pytest

from lakesentinel.detectors.entity import US, EntityScorer, dump_state, load_state, score_series
from tests.detectors.conftest import make_spec

HOUR = 3600 * US


def _spec(**overrides):
    alert = overrides.get("alert", "{severity: {low: 0.5, high: 0.9}, title: 't'}")
    return make_spec(f"""
id: test.entity
domain: reliability
metric:
  source: lakeflow.job_run_timeline
  entity: [job_id]
  entity_type: job
  window: {{size: 1h{", empty: " + overrides["empty"] if "empty" in overrides else ""}}}
  {"min_rows: " + str(overrides["min_rows"]) if "min_rows" in overrides else ""}
  features: [{{name: v, measure: {overrides.get("measure", "failed")}, agg: {overrides.get("agg", "sum")}}}]
model: {{type: robust_quantile, params: {{min_scale: 0.5, window_size: 48}}}}
warmup: {{windows: {overrides.get("warmup", 3)}, max_severity: {overrides.get("cap", "info")}}}
alert: {alert}
state_ttl: {overrides.get("ttl", "14d")}
""")


def _close_all(scorer, state, until_us):
    return [(w.window_start_us // HOUR, w.observed) for w in scorer.close(state, until_us)]


def test_empty_windows_count_as_zero_up_to_the_watermark():
    scorer = EntityScorer(_spec())
    state = scorer.new_state()
    scorer.add_rows(state, [0, 10, 3 * HOUR + 5], {"v": [1, 2, 4]})
    assert _close_all(scorer, state, 2 * HOUR) == [(0, 3.0), (1, 0.0)]
    assert _close_all(scorer, state, 4 * HOUR + 1) == [(2, 0.0), (3, 4.0)]
    assert scorer.next_timeout_us(state) == 5 * HOUR


def test_skip_mode_scores_only_windows_with_enough_rows():
    scorer = EntityScorer(_spec(empty="skip", agg="mean", measure="run_duration_seconds", min_rows=2))
    state = scorer.new_state()
    scorer.add_rows(state, [0, 1, 2 * HOUR, 5 * HOUR, 5 * HOUR + 1], {"v": [10, 20, 99, 30, 50]})
    assert _close_all(scorer, state, 6 * HOUR) == [(0, 15.0), (5, 40.0)]


def test_rows_for_a_scored_window_are_too_late_to_count():
    scorer = EntityScorer(_spec())
    state = scorer.new_state()
    scorer.add_rows(state, [0], {"v": [1]})
    scorer.close(state, HOUR)
    scorer.add_rows(state, [HOUR - 1, HOUR + 1], {"v": [50, 2]})
    assert _close_all(scorer, state, 2 * HOUR) == [(1, 2.0)]


def test_quantiles_distinct_counts_and_evidence():
    spec = make_spec("""
id: test.quantiles
domain: security
metric:
  source: access.audit
  entity: [user]
  entity_type: user
  window: {size: 10m, empty: skip}
  features:
    - {name: events, measure: events, agg: count}
    - {name: secrets, measure: secret_key, agg: count_distinct}
model: {type: half_space_trees}
alert: {severity: {low: 0.5}, title: t}
""")
    scorer = EntityScorer(spec)
    state = scorer.new_state()
    times = [i * US for i in range(6)]
    scorer.add_rows(state, times, {"events": [1.0] * 6, "secrets": ["a/1", "a/2", "a/1", None, "b/1", "a/2"]},
                    evidence=[f"e{i}" for i in range(6)], workspaces=["w2", "w1", "w1", None, "w1", "w2"],
                    committed_us=[5, 9, None, 7, 3, 1])
    (w,) = scorer.close(state, 600 * US)
    assert w.features == {"events": 6.0, "secrets": 3.0}
    assert w.evidence == ["e0", "e1", "e2", "e3", "e4", "e5"]
    assert (w.workspace_id, w.committed_us, w.rows) == ("w1", 9, 6)


def test_cold_entities_alert_capped_and_say_so_then_warm_ones_at_full_severity():
    scorer = EntityScorer(_spec(warmup=5, cap="low"))
    state = scorer.new_state()
    scorer.add_rows(state, [HOUR * h for h in range(7)], {"v": [0, 0, 0, 9, 0, 0, 9]})
    out = scorer.close(state, 7 * HOUR)
    assert [(w.cold_start, w.severity) for w in out] == [
        (True, None), (True, None), (True, None), (True, "low"), (True, None), (False, None), (False, "high")]


def test_for_windows_and_protection():
    alert = "{severity: {high: 0.8}, for_windows: 2, protect_windows: 2, title: t}"
    scorer = EntityScorer(_spec(warmup=2, alert=alert))
    state = scorer.new_state()
    values = [0, 0, 0, 9, 9, 9, 9, 9]
    scorer.add_rows(state, [HOUR * h for h in range(len(values))], {"v": values})
    out = scorer.close(state, len(values) * HOUR)
    assert [w.severity for w in out] == [None, None, None, None, "high", "high", "high", "high"]
    # Two alerting windows are held back, the third is learned, then the budget starts again.
    assert [w.learned for w in out] == [True, True, True, False, False, True, False, False]


def test_state_expires_after_its_time_to_live():
    scorer = EntityScorer(_spec(ttl="3h"))
    state = scorer.new_state()
    scorer.add_rows(state, [0], {"v": [1]})
    windows = scorer.close(state, 10 * HOUR)
    assert len(windows) == 4  # the hour with rows, then zeros up to three hours after it
    assert scorer.expired(state, 10 * HOUR)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_rows_give_the_same_scores_however_they_are_batched(seed):
    """What a restart from a checkpoint relies on: batches and watermark steps do not change scores."""
    spec = _spec(warmup=5)
    rng = random.Random(seed)
    rows = sorted((rng.randrange(0, 200 * HOUR), rng.choice([0, 0, 0, 1, 2, 7])) for _ in range(600))
    lateness = 3 * HOUR

    def run(cuts):
        scorer = EntityScorer(spec)
        blob = dump_state(scorer.new_state())
        out, start, seen_max = [], 0, 0
        for end in cuts + [len(rows)]:
            state = load_state(blob)  # every batch goes through the checkpoint
            watermark = max(0, seen_max - lateness)
            batch = [r for r in rows[start:end] if r[0] >= watermark]  # Spark drops rows behind the watermark
            scorer.add_rows(state, [t for t, _ in batch], {"v": [v for _, v in batch]})
            out += [(w.window_start_us, w.score, w.severity, w.learned) for w in scorer.close(state, watermark)]
            seen_max = max([seen_max] + [t for t, _ in rows[start:end]])
            blob, start = dump_state(state), end
        state = load_state(blob)
        out += [(w.window_start_us, w.score, w.severity, w.learned) for w in scorer.close(state, seen_max - lateness)]
        return out

    whole = run([])
    pieces = run(sorted(rng.sample(range(1, len(rows)), 25)))
    assert len(whole) > 150 and whole == pieces


def test_score_series_point_and_windowed():
    spec = _spec(warmup=2)
    points = [(h * HOUR, 0.0) for h in range(10)] + [(10 * HOUR, 8.0), (10 * HOUR + 5, 1.0)]
    each = score_series(spec, points)
    assert len(each) == 12 and each[-2].severity == "high"
    windowed = score_series(spec, points, windowed=True)
    assert len(windowed) == 11 and windowed[-1].observed == 9.0 and windowed[-1].severity == "high"


def test_alert_text_from_templates():
    spec = make_spec("""
id: test.words
domain: cost
metric:
  source: billing.usage
  entity: [workspace_id, tags.team]
  entity_type: team
  window: {size: 1h}
  features: [{name: cost, measure: list_cost, agg: sum}]
model: {type: robust_quantile}
alert:
  severity: {low: 0.5}
  title: "{tags_team} in {workspace_id}: {cost:,.2f} (expected {expected:.1f}) at {window_start:%H:%M}"
  summary: "{entity_type} {entity_id} scored {score:.2f} by {detector}"
""")
    scorer = EntityScorer(spec)
    state = scorer.new_state()
    scorer.add_rows(state, [2 * HOUR], {"cost": [1234.5]})
    (w,) = scorer.close(state, 3 * HOUR)
    title, summary = scorer.describe({"workspace_id": "42", "tags.team": "growth"}, w)
    assert title == "growth in 42: 1,234.50 (expected nan) at 02:00"
    assert summary == "team growth scored 0.00 by test.words"


def test_rows_in_any_order_count_until_their_window_is_closed():
    """Spark hands rows over in chunks, in no order: earlier rows after later ones still count."""
    scorer = EntityScorer(_spec())
    state = scorer.new_state()
    scorer.add_rows(state, [2 * HOUR + 1], {"v": [5]})
    scorer.add_rows(state, [HOUR + 1, 1], {"v": [2, 1]})
    assert _close_all(scorer, state, 3 * HOUR) == [(0, 1.0), (1, 2.0), (2, 5.0)]
