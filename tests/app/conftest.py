"""A lakehouse for the app: the suite's simulated organisation, copied, run through the monitor once
(bronze with the rules, silver, the lifecycle and the worker; no detectors) and built into gold."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import settings_for


@pytest.fixture(scope="session")
def app_lake(simulated, spark, tmp_path_factory):
    from lakesentinel.gold.plan import run_gold
    from lakesentinel.context import Context
    from lakesentinel.monitor import MonitorOptions

    source_cfg = simulated[0]
    cfg = settings_for(tmp_path_factory.mktemp("app"))
    # The simulated source tables are shared with other tests: the app's monitor run works on a copy.
    shutil.copytree(source_cfg.storage_root, cfg.storage_root)
    Context(cfg, spark=spark).monitor(MonitorOptions(detectors=False)).run_once()
    run_gold(spark, cfg)
    return cfg


@pytest.fixture(scope="session")
def app_spark(app_lake, spark):
    from lakesentinel.session import get_spark

    return get_spark(app_lake)


@pytest.fixture(scope="session")
def client(app_lake, app_spark):
    from fastapi.testclient import TestClient

    from lakesentinel.app.composition import build_app

    with TestClient(build_app(app_lake, app_spark)) as c:
        yield c
