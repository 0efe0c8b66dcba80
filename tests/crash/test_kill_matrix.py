"""The kill-point matrix: a scheduled monitor run SIGKILLed at each commit boundary of bronze with the
rules, silver, gold and the lifecycle, then run again: every table holds what an uninterrupted run
holds, no row lost or doubled (the worker's point is tests/actions/test_worker_sigkill.py).

Each point costs two monitor processes over a one-day organisation (minutes on 2 cores): the matrix
is ``extended``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from lakesentinel.deltars import read_arrow
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch
from tests.conftest import SIM_START, settings_for
from tests.crash.kill_driver import POINTS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.extended
# What a run must leave the same whatever it went through: every bronze, silver and gold table, the
# alerts and the outbox's notification keys (the lifecycle's own logs and the metrics grow per run).
COMPARED = ("plt_bronze", "plt_silver", "plt_gold")
KEYS = {"alerts": "alert_id", "action_outbox": "idempotency_key"}


def _drive(home: Path, point: str) -> subprocess.CompletedProcess:
    log = (home / f"{point}.log").open("ab")
    return subprocess.run([sys.executable, "-m", "tests.crash.kill_driver", str(home), point], cwd=ROOT,
                          env=dict(os.environ, LAKESENTINEL_HOME=str(home)), stdout=log, stderr=subprocess.STDOUT,
                          timeout=1800)


def _organisation(home: Path):
    cfg = settings_for(home)
    run_batch(cfg, Simulator("small", 8, to_us(SIM_START), 1, warmup_days=0))
    return cfg


def _contents(cfg) -> dict[str, object]:
    """Per compared table its row count; for the keyed ops tables, how often each key appears."""
    root = Path(cfg.storage_root.removeprefix("file:"))
    out: dict[str, object] = {}
    for log_dir in sorted(root.rglob("_delta_log")):
        table = log_dir.parent
        rel = str(table.relative_to(root))
        if any(part in COMPARED for part in table.parts):
            out[rel] = read_arrow(str(table)).num_rows
        elif table.name in KEYS:
            out[rel] = Counter(read_arrow(str(table), columns=[KEYS[table.name]]).column(0).to_pylist())
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    home = tmp_path_factory.mktemp("reference")
    cfg = _organisation(home)
    assert _drive(home, "none").returncode == 0, (home / "none.log").read_text()[-3000:]
    contents = _contents(cfg)
    assert any("plt_gold" in t and n for t, n in contents.items() if isinstance(n, int)), contents
    return contents


@pytest.mark.parametrize("point", sorted(POINTS))
def test_killed_at_a_commit_boundary_then_rerun_loses_and_doubles_nothing(tmp_path, reference, point):
    home = tmp_path / "home"
    cfg = _organisation(home)
    killed = _drive(home, point)
    assert killed.returncode == -signal.SIGKILL, (home / f"{point}.log").read_text()[-3000:]
    assert (home / "killed_at").read_text() == point
    assert _drive(home, "none").returncode == 0, (home / "none.log").read_text()[-3000:]
    contents = _contents(cfg)
    for table, keys in contents.items():
        # A lifecycle step replayed after a crash appends its notification keys again, by design: the
        # worker delivers each key once (its own kill points are in the worker's test).
        if isinstance(keys, Counter) and not table.endswith("action_outbox"):
            assert [k for k, n in keys.items() if n > 1] == [], f"{table}: keys doubled"
    assert {t: v if isinstance(v, int) else set(v) for t, v in contents.items()} == \
        {t: v if isinstance(v, int) else set(v) for t, v in reference.items()}
