from datetime import date

import pytest

from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch
from tests.conftest import settings_for


def run_tasks(spark, cfg, tables, task_names):
    """Bronze for ``tables`` and only the named silver tasks, in plan order."""
    from lakesentinel.silver.plan import silver_tasks
    from lakesentinel.streams.ingest import add_bronze
    from lakesentinel.streams.supervisor import Supervisor

    add_bronze(Supervisor(), spark, cfg, scheduled=True, tables=tables).run_once()
    return {t.name: t.run(spark, cfg) for t in silver_tasks() if t.name in task_names}


def build(spark, home, days=3, scenarios=None, seed=31):
    """A simulated lakehouse with bronze and silver built once."""
    from lakesentinel.session import get_spark
    from lakesentinel.silver.plan import run_silver
    from lakesentinel.streams.ingest import add_bronze
    from lakesentinel.streams.supervisor import Supervisor

    cfg = settings_for(home)
    sim = Simulator("small", seed, to_us(date(2026, 3, 2)), days, scenarios=scenarios, warmup_days=1)
    run_batch(cfg, sim)
    get_spark(cfg)
    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    results = {r.task: r for r in run_silver(spark, cfg)}
    return cfg, sim, results


@pytest.fixture(scope="module")
def silvered(spark, tmp_path_factory):
    return build(spark, tmp_path_factory.mktemp("silver"), scenarios=["untagged_spend_surge", "job_failure_streak"])


@pytest.fixture
def silver_spark(silvered, spark):
    from lakesentinel.session import get_spark

    return get_spark(silvered[0])
