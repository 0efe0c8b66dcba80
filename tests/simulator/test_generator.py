"""The generator without Spark: determinism, ordering, scenario placement."""

from datetime import date

from lakesentinel.simulator.clock import DAY, to_us
from lakesentinel.simulator.generator import Simulator, Timeline
from lakesentinel.simulator.scenarios import SCENARIOS

START = to_us(date(2026, 3, 2))


def _fingerprint(rows: dict) -> dict:
    return {t: [tuple(sorted((k, repr(v)) for k, v in r.items())) for r in rs] for t, rs in rows.items()}


def test_same_seed_same_rows_and_different_seed_different_rows():
    a = Simulator("small", 5, START, 2)
    b = Simulator("small", 5, START, 2)
    c = Simulator("small", 6, START, 2)
    assert _fingerprint(a.initial_rows()) == _fingerprint(b.initial_rows())
    assert _fingerprint(a.day_rows(1)) == _fingerprint(b.day_rows(1))
    assert _fingerprint(a.day_rows(1)) != _fingerprint(c.day_rows(1))


def test_at_least_ten_scenario_types_across_four_domains_are_placed_after_warmup():
    sim = Simulator("small", 3, START, 6, warmup_days=2)
    types = {t.scenario_type for t in sim.truths}
    assert len(types) >= 10 and types == set(SCENARIOS)
    assert {t.domain for t in sim.truths} == {"cost", "security", "reliability", "query"}
    for t in sim.truths:
        assert START + 2 * DAY <= t.start_time < t.end_time <= sim.end, t.scenario_type


def test_scenarios_can_be_chosen_or_switched_off():
    assert Simulator("small", 3, START, 2, scenarios=[]).truths == []
    only = Simulator("small", 3, START, 2, scenarios=["brute_force_login"], per_type=2)
    assert [t.scenario_type for t in only.truths] == ["brute_force_login"] * 2
    assert len({t.entity_id for t in only.truths}) == 2


def test_timeline_releases_in_availability_order_and_respects_limits():
    tl = Timeline()
    tl.add({"a": [{"_available_at": 5}, {"_available_at": 1}], "b": [{"_available_at": 3}]})
    first = tl.release(until=4, limit=1)
    assert first == {"a": [{"_available_at": 1}]}
    assert tl.release(until=4) == {"b": [{"_available_at": 3}]}
    assert tl.release(until=4) == {} and len(tl) == 1


def test_profiles_grow_in_size():
    sizes = [len(Simulator(p, 1, START, 1, scenarios=[]).org.jobs) for p in ("small", "medium", "large")]
    assert sizes[0] < sizes[1] < sizes[2]
