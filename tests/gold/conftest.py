"""A lakehouse built the way a monitor meets its data: three days, a full gold build, then one more day
and an incremental build. Built once per module; tests read the state it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from delta.tables import DeltaTable

from tests.conftest import settings_for

# Seed 21 places the runaway cluster mostly on the fourth day and the other incidents on days 1-2,
# each on a day of its own: a view should point at the incident, not at a coincidence.
SEED = 21
SCENARIOS = ["runaway_cluster", "job_failure_streak", "query_latency_regression", "untagged_spend_surge",
             "brute_force_login"]
SILVER_EVENTS = ("usage", "job_run", "task_run", "query", "audit", "warehouse_event")


def bronze_and_silver(spark, cfg) -> None:
    from lakesentinel.silver.plan import run_silver
    from lakesentinel.streams.ingest import add_bronze
    from lakesentinel.streams.supervisor import Supervisor

    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    run_silver(spark, cfg)


def versions(spark, names: list[str]) -> dict[str, int]:
    return {n: DeltaTable.forName(spark, n).history(1).select("version").first()[0] for n in names}


@dataclass
class Staged:
    cfg: object
    sim: object
    full: object  # BuildReport of the full build after three days
    incremental: object  # BuildReport of the build after the fourth day
    silver_after_full: dict[str, int]  # silver versions the full build read
    gold_after_incremental: dict[str, int]  # gold fact versions the incremental build left


@pytest.fixture(scope="module")
def staged(spark, tmp_path_factory) -> Staged:
    from lakesentinel.gold.ddl import all_table_ddl
    from lakesentinel.gold.plan import run_gold
    from lakesentinel.lakehouse import Lakehouse
    from lakesentinel.session import get_spark
    from lakesentinel.simulator.clock import DAY, to_us
    from lakesentinel.simulator.generator import Simulator
    from lakesentinel.simulator.staged import StagedRun

    cfg = settings_for(tmp_path_factory.mktemp("gold"))
    lh = Lakehouse(cfg)
    sim = Simulator("small", SEED, to_us(date(2026, 3, 2)), 4, scenarios=SCENARIOS, warmup_days=1)
    run = StagedRun(cfg, sim)
    run.land_until(sim.start + 3 * DAY)
    get_spark(cfg)
    bronze_and_silver(spark, cfg)
    full = run_gold(spark, cfg, full=True)
    silver_after_full = versions(spark, [lh.name("silver", t) for t in SILVER_EVENTS])
    run.land_days(1)
    bronze_and_silver(spark, cfg)
    incremental = run_gold(spark, cfg)
    facts = [d.name for d in all_table_ddl(cfg) if d.table.startswith("fact_")]
    return Staged(cfg, sim, full, incremental, silver_after_full, versions(spark, facts))


@pytest.fixture
def gold_spark(staged, spark):
    from lakesentinel.session import get_spark

    return get_spark(staged.cfg)
