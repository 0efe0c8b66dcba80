"""End to end on the simulator: simulate, stream a detector the way the monitor does, match to ground truth."""

from datetime import date

import pytest

from lakesentinel.detectors.scenario_run import ScenarioPlan, combined, run
from lakesentinel.detectors.spec import find_spec

pytestmark = pytest.mark.slow


def test_a_seeded_run_finds_the_injected_incidents(spark, shipped_specs, tmp_path):
    spec = find_spec(shipped_specs, "security.user_activity")
    plan = ScenarioPlan(profile="small", days=10, seeds=(5,), per_type=1, warmup_days=6, start=date(2026, 3, 2))
    steps = []
    (result,) = run(spark, [spec], plan, tmp_path, on_step=steps.append)

    evaluation = combined([result])[spec.id]
    assert result.scenarios == 13 and result.rows > 0
    assert evaluation.instances == {t: 1 for t in spec.evaluation.scenarios}
    assert evaluation.found == evaluation.instances, f"missed {evaluation.missed}"
    assert evaluation.false_positives == 0 and evaluation.precision == 1.0
    assert all(0 <= d <= 40 for delays in evaluation.delays_minutes.values() for d in delays)
    assert steps == ["seed 5: simulating small, 10 days", f"seed 5: streaming {spec.id}"]
    assert not any(tmp_path.iterdir()), "scratch lakehouses are removed unless kept"
