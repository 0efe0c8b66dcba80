"""Detector throughput on one core: each shipped model bare (score then learn), then through the
per-entity scorer (warm-up, severities, protection: what a window costs in the stream), with the size
and save/load time of one entity's state. River's Half-Space Trees with its defaults is the reference.
"""

from __future__ import annotations

import time
from pathlib import Path

from river import anomaly

from lakesentinel.detectors.checks import series
from lakesentinel.detectors.entity import EntityScorer, dump_state, load_state
from lakesentinel.detectors.spec import load_specs
from lakesentinel.settings import SHIPPED_DIR


REPEATS = 3  # best of three: the machine is shared, and the fastest run is the least disturbed


def _rate(n: int, seconds: float) -> int:
    return int(n / seconds) if seconds > 0 else 0


def _best(measure) -> float:
    return min(measure() for _ in range(REPEATS))


def _bare(detector, data) -> float:
    began = time.perf_counter()
    for x, t in data:
        detector.score_one(x, t)
        detector.learn_one(x, t)
    return time.perf_counter() - began


def _river_hst(points: int) -> dict:
    data = series(points, seed=7, features=("value", "other"))
    scaled = [{k: min(1.0, v / 40.0) for k, v in x.items()} for x, _ in data]

    def once() -> float:
        hst = anomaly.HalfSpaceTrees(seed=42)
        began = time.perf_counter()
        for x in scaled:
            hst.score_one(x)
            hst.learn_one(x)
        return time.perf_counter() - began

    seconds = _best(once)
    return {"model": "river.HalfSpaceTrees", "configuration": "River defaults (10 trees, height 8, window 250)",
            "points_per_s_model": _rate(points, seconds)}


def run(points: int = 20000, specs_dir: Path | None = None) -> dict:
    specs = load_specs(specs_dir or SHIPPED_DIR / "rules" / "detectors")
    models = [_river_hst(points)]
    for spec in specs:
        names = tuple(f.name for f in spec.metric.features)
        data = series(points, seed=11, features=names)
        bare_seconds = _best(lambda: _bare(spec.build_detector(), data))
        scorer = EntityScorer(spec)
        stamped = [(x, int(t.timestamp() * 1_000_000)) for x, t in data]
        states = []

        def through_scorer() -> float:
            state = scorer.new_state()
            states.append(state)
            began = time.perf_counter()
            for x, t_us in stamped:
                scorer.score_point(state, t_us, x)
            return time.perf_counter() - began

        scorer_seconds = _best(through_scorer)
        state = states[-1]
        rounds = 200
        began = time.perf_counter()
        for _ in range(rounds):
            blob = dump_state(state)
            load_state(blob)
        checkpoint_ms = (time.perf_counter() - began) / rounds * 1000
        models.append({
            "model": spec.model.type, "configuration": spec.id, "features": len(names),
            "points_per_s_model": _rate(points, bare_seconds), "points_per_s_scorer": _rate(points, scorer_seconds),
            "state_bytes": len(dump_state(state)), "checkpoint_ms": round(checkpoint_ms, 3),
        })
    return {"bench": "detectors", "points": points, "models": models}
