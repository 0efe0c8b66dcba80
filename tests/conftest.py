"""Shared fixtures: one SparkSession for the whole run, and lakehouses under temporary roots."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from lakesentinel.settings import Settings, settings_at

# Monday 2 March 2026: a fixed start keeps simulated data identical between runs.
SIM_START = date(2026, 3, 2)
SIM_DAYS = 4
SIM_SEED = 11


def settings_for(home: Path) -> Settings:
    """Settings of the local environment with everything under ``home``."""
    return settings_at(home)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    os.environ["LAKESENTINEL_HOME"] = str(home)  # anything that reads settings() lands here
    return settings_for(home)


@pytest.fixture(scope="session")
def spark(base_settings):
    from lakesentinel.session import get_spark

    session = get_spark(base_settings)
    yield session
    session.stop()


@pytest.fixture
def fresh_settings(tmp_path) -> Settings:
    return settings_for(tmp_path / "home")


@pytest.fixture(scope="session")
def simulated(tmp_path_factory, spark):
    """A small organisation, four days, every scenario type once: written once, read by many tests."""
    from lakesentinel.simulator.clock import to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.run import run_batch

    cfg = settings_for(tmp_path_factory.mktemp("simulated"))
    sim = Simulator("small", SIM_SEED, to_us(SIM_START), SIM_DAYS, warmup_days=1)
    summary = run_batch(cfg, sim)
    return cfg, sim, summary


@pytest.fixture
def sim_spark(simulated, spark):
    """The shared session, with table names pointing at the simulated lakehouse."""
    from lakesentinel.session import get_spark

    return get_spark(simulated[0])
