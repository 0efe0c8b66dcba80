from datetime import date

import pytest

from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch
from tests.conftest import settings_for


@pytest.fixture
def lakehouse(tmp_path, spark):
    """A fresh small organisation (two days) and the session pointing at it."""
    from lakesentinel.session import get_spark

    cfg = settings_for(tmp_path / "home")
    run_batch(cfg, Simulator("small", 21, to_us(date(2026, 3, 2)), 2, scenarios=["brute_force_login"]))
    get_spark(cfg)
    return cfg
