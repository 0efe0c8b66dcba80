"""The running monitor end to end: simulated system tables in, incidents and delivered notifications out.

A scheduled run (``stream all --scheduled``) drains every source through bronze, the rules engine,
the lifecycle and the worker; a second run over the same checkpoints adds nothing; the continuous
monitor stops cleanly when asked.
"""

from __future__ import annotations

import threading
import time

import pytest

from lakesentinel.demo.view import read_rows
from lakesentinel.evaluation import evaluate
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.context import Context
from lakesentinel.monitor import MonitorOptions
from lakesentinel.simulator.clock import from_us, to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_batch
from tests.conftest import SIM_START, settings_for

DAYS = 4
# Every source, silver and the detectors have their own tests; here the hot path for the security
# scenarios (audit rows through the rules) and everything after it.
OPTIONS = MonitorOptions(silver=False, detectors=False, tables=["access.audit", "access.workspaces_latest"])


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, spark):
    cfg = settings_for(tmp_path_factory.mktemp("monitor"))
    sim = Simulator("small", 5, to_us(SIM_START), DAYS, warmup_days=1)
    run_batch(cfg, sim)
    monitor = Context(cfg, spark=spark).monitor(OPTIONS)
    first = monitor.run_once()
    return cfg, sim, first


def table(cfg, schema: str, name: str) -> list[dict]:
    lh = Lakehouse(cfg)
    return read_rows(lh.location(lh.name(schema, name)))


def test_a_scheduled_run_opens_an_incident_for_every_security_scenario(monitored):
    cfg, sim, _ = monitored
    incidents = table(cfg, "gold", "fact_incident")
    truths = [t.row() | {"start_time": from_us(t.start_time), "end_time": from_us(t.end_time)} for t in sim.truths]
    security = [t for t in truths if t["domain"] == "security"]
    assert security, "the simulator injected no security scenario"
    outcome = evaluate(incidents, security, [], simulated_days=DAYS)
    assert outcome.found == len(security), [t["scenario_type"] for t in outcome.missed]
    assert all(i["rule_id"] and i["severity"] for i in incidents)


def test_every_notification_is_delivered_once(monitored):
    cfg, _, first = monitored
    outbox = table(cfg, "ops", "action_outbox")
    delivered = [d for d in table(cfg, "ops", "action_deliveries") if d["event"] == "delivered"]
    assert outbox, "the lifecycle wrote no notification"
    assert first["worker"].delivered == len(outbox) and not first["worker"].dead_lettered
    assert sorted(d["idempotency_key"] for d in delivered) == sorted(r["idempotency_key"] for r in outbox)
    assert {r["receiver"] for r in outbox} == {"console"}  # the embedded default's routes


def test_a_second_run_over_the_same_checkpoints_adds_nothing(monitored, spark):
    cfg, _, _ = monitored
    before = {name: len(table(cfg, "ops", name)) for name in ("alerts", "action_outbox")}
    incidents = len(table(cfg, "gold", "fact_incident"))
    Context(cfg, spark=spark).monitor(OPTIONS).run_once()
    after = {name: len(table(cfg, "ops", name)) for name in before}
    assert after == before
    assert len(table(cfg, "gold", "fact_incident")) == incidents


def test_the_continuous_monitor_stops_cleanly_when_asked(monitored, spark):
    cfg, _, _ = monitored
    monitor = Context(cfg, spark=spark).monitor(MonitorOptions(silver=False, lifecycle=False, worker=False,
                                                 tables=["access.audit", "billing.usage"],
                                                 detector_ids=["security.user_activity"]))
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,), daemon=True)
    runner.start()
    deadline = time.time() + 600  # a timeout, not a speed check: starting three queries on a busy machine
    while not monitor.caught_up() and time.time() < deadline and runner.is_alive():
        time.sleep(0.5)
    assert monitor.caught_up(), [s.describe() for s in monitor.backlog() if not s.caught_up]
    assert [s.name for s in monitor.supervisor.streams if s.name.startswith("detectors.")] == [
        "detectors.security.user_activity"]
    assert all(stage.caught_up for stage in monitor.backlog())
    stop.set()
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert not [q.name for q in spark.streams.active if q.name and q.name.startswith(("bronze.", "detectors."))]

    # A source commit nobody has read: the backlog names the stage and how far behind it is.
    lh = Lakehouse(cfg)
    source = lh.location(lh.source("access.audit"))
    spark.read.format("delta").load(source).limit(2).write.format("delta").mode("append").save(source)
    behind = {stage.stage: stage for stage in monitor.backlog() if not stage.caught_up}
    assert list(behind) == ["bronze.access.audit"], behind
    assert behind["bronze.access.audit"].behind == 1
    assert "1 commit(s) of system_access.audit behind" in behind["bronze.access.audit"].describe()
