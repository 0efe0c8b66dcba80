"""Two worker processes and ``actions retry`` at once over one outbox: each notification reaches Slack,
Jira and the webhook exactly once (the fakes count every request), and the log holds one ``delivered``
per key. Also: claims settle the same way in every reader, and an expired or dead holder is overridden."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from lakesentinel.actions.worker import DeliveryLog
from lakesentinel.context import Context
from lakesentinel.notify.deliveries import DELIVERIES
from lakesentinel.opstables import DeltaRsTables
from tests.fakes.notifications import notification

ROOT = Path(__file__).resolve().parents[2]
GROUPS = 4


def cli(deployment, log_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakesentinel.cli.main", "actions", *args], cwd=ROOT,
                            env=deployment.env(), stdout=log_path.open("ab"), stderr=subprocess.STDOUT)


def test_two_workers_and_a_retry_together_deliver_each_notification_once(deployment, services, outbox, tmp_path):
    # Dead letters first, for the retry to requeue: the webhook refuses the first round of three groups.
    first = outbox(deployment.cfg, groups=3, kinds=("webhook",))
    services.webhook.fail(500, times=100)
    Context(deployment.cfg, routes=deployment.write(attempts=1)).worker(threading.Event()).run(until_idle=True,
                                                                                             timeout=60)
    services.clear_faults()
    deployment.write(attempts=4, timeout="2s")
    rows = outbox(deployment.cfg, groups=GROUPS, kinds=("slack", "jira", "webhook"), seq=2, reason="update")
    rows += outbox(deployment.cfg, groups=GROUPS, kinds=("slack", "jira"), seq=1)
    webhook_posts_before = len(services.webhook.calls("/hook", "POST"))

    log_path = tmp_path / "workers.log"
    procs = [cli(deployment, log_path, "worker", "--until-idle", "--timeout", "150"),
             cli(deployment, log_path, "worker", "--until-idle", "--timeout", "150"),
             cli(deployment, log_path, "retry", "--by", "oncall@example.com")]
    for p in procs:
        assert p.wait(200) == 0, log_path.read_text()[-4000:]

    every = rows + first
    keys = {r["idempotency_key"] for r in every}
    t = DeltaRsTables(deployment.cfg)
    log_rows = t.read(t.name("ops", DELIVERIES))
    delivered = Counter(r["idempotency_key"] for r in log_rows if r["event"] == "delivered")
    assert set(delivered) == keys and set(delivered.values()) == {1}, "each key delivered once in the log"
    assert len({r["worker"] for r in log_rows if r["event"] == "claimed"}) >= 2, "more than one process delivered"

    # Slack: one message per group, edited once by its update; no second post of any key.
    posted = Counter(m["metadata"]["event_payload"]["idempotency_key"] for m in services.slack.messages)
    assert len(services.slack.top_level()) == GROUPS and set(posted.values()) == {1}
    assert all(m["edits"] == 1 for m in services.slack.top_level()), "each update edited the post it follows"
    # Jira: one issue per group, one comment (the update) on each.
    assert len(services.jira.issues) == GROUPS
    assert all(len(i["comments"]) == 1 for i in services.jira.issues.values())
    # Webhook: every POST after the dead letters was a first delivery (no duplicate reached it).
    webhook_keys = {r["idempotency_key"] for r in every if r["integration_type"] == "webhook"}
    assert set(services.webhook.accepted) == webhook_keys
    assert services.webhook.duplicates == 0
    assert len(services.webhook.calls("/hook", "POST")) - webhook_posts_before == len(webhook_keys)


def _log(cfg, worker: str, now: datetime) -> DeliveryLog:
    return DeliveryLog(DeltaRsTables(cfg), worker, lambda: now)


def test_claims_settle_in_commit_order_and_a_lapsed_lease_is_taken_over(fresh_settings):
    now = datetime(2026, 3, 2, 9, 0)
    n = notification(1, integration="all/webhook")
    a, b = _log(fresh_settings, "elsewhere:1", now), _log(fresh_settings, "elsewhere:2", now)
    assert a.claim(n, 60) is True
    assert b.claim(n, 60) is False, "a live lease of another worker holds"
    assert a.claim(n, 60) is True, "the holder renews"
    later = _log(fresh_settings, "elsewhere:2", now + timedelta(seconds=61))
    later.load()
    assert later.claim(n, 60) is True, "an expired lease is taken over"
    a.catch_up()
    assert a.keys[n.idempotency_key].holder.worker == "elsewhere:2", "every reader settles it the same way"
    assert a.claim(n, 60) is False


def test_a_claim_of_a_process_gone_from_this_host_is_overridden_at_once(fresh_settings):
    import socket

    now = datetime(2026, 3, 2, 9, 0)
    n = notification(1, integration="all/webhook")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = _log(fresh_settings, f"{socket.gethostname()}:{gone.stdout.strip()}", now)
    assert dead.claim(n, 3600)
    alive = _log(fresh_settings, "elsewhere:9", now)
    assert alive.claim(n, 60) is True
    row = [r for r in alive.tables.read(alive.name) if r["worker"] == "elsewhere:9"][0]
    assert row["refs"]["voids"], "the override names the claim it voids"
