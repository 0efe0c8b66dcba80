"""A real worker process killed with SIGKILL in the middle of deliveries, then restarted: every
notification reaches Slack, Jira and the webhook exactly once (the fakes count)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakesentinel.notify.deliveries import DELIVERIES
from lakesentinel.opstables import DeltaRsTables
from lakesentinel.actions.worker import DeliveryLog

ROOT = Path(__file__).resolve().parents[2]
GROUPS = 6


def start_worker(deployment, log_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakesentinel.cli.main", "actions", "worker", *args], cwd=ROOT,
                            env=deployment.env(), stdout=log_path.open("ab"), stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def test_sigkill_during_delivery_then_restart_delivers_each_notification_exactly_once(
        deployment, services, outbox, tmp_path):
    deployment.write(timeout="20s")  # long enough that the kill lands while replies are held
    rows = outbox(deployment.cfg, groups=GROUPS, kinds=("slack", "jira", "webhook"))
    # Each service acts on its first two requests but holds the reply: the worker is mid-delivery.
    services.slack.hang(30, after_handling=True, times=2, path="chat.postMessage")
    services.jira.hang(30, after_handling=True, times=2, path="rest/api/2/issue")
    services.webhook.hang(30, after_handling=True, times=2, path="/hook")

    log_path = tmp_path / "worker.log"
    first = start_worker(deployment, log_path)
    try:
        wait_for(lambda: services.slack.messages and services.jira.issues and services.webhook.accepted, 90,
                 "the first deliveries to reach every service")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    assert first.returncode == -signal.SIGKILL

    # The crash left attempts without an outcome, for notifications the services had already acted on.
    log = DeliveryLog(DeltaRsTables(deployment.cfg), "test", lambda: None)
    log.load()
    uncertain = {k for k, s in log.keys.items() if s.uncertain}
    assert uncertain, "the kill landed between sending and recording"
    slack_keys = {m["metadata"]["event_payload"]["idempotency_key"] for m in services.slack.top_level()}
    assert uncertain & slack_keys and uncertain & set(services.webhook.accepted), "held deliveries are uncertain"

    services.clear_faults()
    second = start_worker(deployment, log_path, "--until-idle", "--timeout", "120")
    assert second.wait(180) == 0, log_path.read_text()[-4000:]

    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["integration_type"], set()).add(row["idempotency_key"])
    top = services.slack.top_level()
    assert len(top) == GROUPS
    assert sorted(m["metadata"]["event_payload"]["idempotency_key"] for m in top) == sorted(by_kind["slack"])
    assert len(services.jira.issues) == GROUPS
    labels = [label for issue in services.jira.issues.values() for label in issue["fields"]["labels"]
              if label.startswith("lakesentinel-g-")]
    assert len(labels) == len(set(labels)) == GROUPS
    assert set(services.webhook.accepted) == by_kind["webhook"]

    t = DeltaRsTables(deployment.cfg)
    delivered = [r["idempotency_key"] for r in t.read(t.name("ops", DELIVERIES)) if r["event"] == "delivered"]
    assert sorted(delivered) == sorted(r["idempotency_key"] for r in rows), "each key recorded delivered once"
    stopped = re.search(r"delivered (\d+), dead-lettered (\d+), found delivered after a crash (\d+)", log_path.read_text())
    assert stopped and int(stopped.group(3)) >= 2, "the restarted worker found the held deliveries at the services"
    assert services.webhook.duplicates >= 1, "the held webhook call was sent again and deduplicated by its key"
