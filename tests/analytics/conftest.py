"""One gold lakehouse for the analytics tests: the session's simulated organisation, copied, then
bronze, silver and a full gold build over it (built once per session)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import settings_for


@pytest.fixture(scope="session")
def gold_home(simulated, spark, tmp_path_factory):
    from lakesentinel.gold.plan import run_gold
    from lakesentinel.silver.plan import run_silver
    from lakesentinel.streams.ingest import add_bronze
    from lakesentinel.streams.supervisor import Supervisor

    source_cfg, sim, _ = simulated
    home = tmp_path_factory.mktemp("analytics") / "home"
    # The source tables only: the simulated lakehouse stays as other tests expect it.
    shutil.copytree(source_cfg.storage_root, home / "lakehouse",
                    ignore=lambda d, names: [n for n in names if n.startswith("plt_")])
    cfg = settings_for(home)
    from lakesentinel.session import get_spark

    session = get_spark(cfg)
    add_bronze(Supervisor(), session, cfg, scheduled=True).run_once()
    run_silver(session, cfg)
    run_gold(session, cfg, full=True)
    return cfg, sim


@pytest.fixture(scope="session")
def gold_cfg(gold_home):
    return gold_home[0]


@pytest.fixture(scope="session")
def analytics_spark(gold_home, spark):
    """The shared session, with table names pointing at the analytics lakehouse."""
    from lakesentinel.session import get_spark

    return get_spark(gold_home[0])
