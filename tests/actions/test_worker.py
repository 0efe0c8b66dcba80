"""The delivery worker in this process, against the fake services, with sleeps recorded instead of slept."""

from __future__ import annotations

import threading

from lakesentinel.notify.deliveries import DEAD_LETTER, DELIVERIES
from lakesentinel.opstables import DeltaRsTables
from lakesentinel.context import Context


def run(deployment, routes=None, sleeps=None, timeout=60.0):
    sleeps = [] if sleeps is None else sleeps
    w = Context(deployment.cfg, routes=routes or deployment.write()).worker(threading.Event(), sleep=sleeps.append)
    stats = w.run(until_idle=True, timeout=timeout)
    return w, stats


def events(cfg, event=None):
    t = DeltaRsTables(cfg)
    rows = t.read(t.name("ops", DELIVERIES))
    return [r for r in rows if event is None or r["event"] == event]


def test_each_notification_is_delivered_once_and_a_restart_sends_nothing_again(deployment, services, outbox):
    outbox(deployment.cfg, groups=3, kinds=("slack", "jira", "webhook", "sql_alert"))
    _, stats = run(deployment)
    assert stats.delivered == 12 and stats.dead_lettered == 0
    assert len(services.slack.top_level()) == 3
    assert len(services.jira.issues) == 3
    assert len(services.webhook.accepted) == 3 and services.webhook.duplicates == 0
    assert len(services.databricks.active("alerts")) == 3
    refs = {r["integration"]: r["refs"] for r in events(deployment.cfg, "delivered")}
    assert refs["all/jira"]["key"].startswith("SEC-") and refs["all/slack"]["ts"]
    assert refs["all/sql_alert"]["alert_id"]

    requests_before = sum(len(f.requests) for f in (services.slack, services.jira, services.webhook))
    _, again = run(deployment)
    assert again.delivered == 0
    assert sum(len(f.requests) for f in (services.slack, services.jira, services.webhook)) == requests_before


def test_a_later_notification_of_the_same_thread_updates_what_the_first_created(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("slack", "jira"))
    run(deployment)
    outbox(deployment.cfg, groups=1, kinds=("slack", "jira"), seq=2, reason="resolved")
    run(deployment)
    assert len(services.slack.top_level()) == 1 and services.slack.top_level()[0]["edits"] == 1
    (issue,) = services.jira.issues.values()
    assert issue["status"] == "Done" and len(issue["comments"]) == 1


def test_a_receiver_down_for_a_while_gets_everything_once_it_is_back(deployment, services, outbox):
    outbox(deployment.cfg, groups=4, kinds=("slack", "webhook"))
    services.slack.fail(500, times=3)
    services.webhook.fail(503, times=2)
    w, stats = run(deployment)
    assert stats.delivered == 8 and stats.dead_lettered == 0
    assert stats.failed_attempts >= 5
    assert len(services.slack.top_level()) == 4 and len(services.webhook.accepted) == 4


def test_a_hanging_receiver_times_out_and_a_reply_lost_after_the_fact_is_not_sent_twice(deployment, services, outbox):
    outbox(deployment.cfg, groups=2, kinds=("slack", "jira"))
    services.slack.hang(3, after_handling=True)  # the message is posted, the reply never comes
    services.jira.hang(3)  # the request never gets through
    _, stats = run(deployment, routes=deployment.write(timeout="500ms"))
    assert stats.delivered == 4
    assert stats.recovered >= 1, "the posted message was found at Slack instead of posted again"
    assert len(services.slack.top_level()) == 2 and len(services.jira.issues) == 2


def test_retry_after_is_honoured(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("slack",))
    services.slack.fail(429, retry_after=7, path="chat.postMessage")
    sleeps = []
    _, stats = run(deployment, sleeps=sleeps)
    assert stats.delivered == 1
    assert 7.0 in sleeps


def test_retry_after_is_capped(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("slack",))
    services.slack.fail(429, retry_after=3600, path="chat.postMessage")
    sleeps = []
    _, stats = run(deployment, routes=deployment.write(retry_after_max="5s"), sleeps=sleeps)
    assert stats.delivered == 1
    assert sleeps == [5.0], "an hour asked, five seconds waited"


def test_an_uncertain_last_attempt_is_looked_up_before_it_is_dead_lettered(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("slack",))
    services.slack.hang(3, after_handling=True, path="chat.postMessage")  # posted; the reply never comes
    _, stats = run(deployment, routes=deployment.write(attempts=1, timeout="500ms"))
    assert stats.delivered == 1 and stats.dead_lettered == 0 and stats.recovered == 1
    assert len(services.slack.top_level()) == 1 and events(deployment.cfg, "dead_lettered") == []


def test_backoff_is_exponential_and_capped(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("webhook",))
    services.webhook.fail(500, times=5)
    sleeps = []
    _, stats = run(deployment, routes=deployment.write(attempts=8), sleeps=sleeps)
    assert stats.delivered == 1 and len(sleeps) == 5
    assert all(0.01 <= s <= 0.05 + 1.0 for s in sleeps)  # initial 10ms, cap 50ms, jitter up to 1s
    assert sleeps[0] < 1.01


def test_after_max_attempts_a_notification_is_dead_lettered_with_its_error(deployment, services, outbox):
    outbox(deployment.cfg, groups=2, kinds=("webhook",))
    services.webhook.fail(500, times=100)
    _, stats = run(deployment, routes=deployment.write(attempts=3))
    assert stats.dead_lettered == 2 and stats.delivered == 0
    t = DeltaRsTables(deployment.cfg)
    dead = t.read(t.name("ops", DEAD_LETTER))
    assert len(dead) == 2 and all(d["attempts"] == 3 and "HTTP 500" in d["last_error"] for d in dead)
    assert all(d["payload"] for d in dead)
    assert len(events(deployment.cfg, "attempt")) == 6


def test_a_permanent_failure_is_dead_lettered_at_once(deployment, services, outbox):
    outbox(deployment.cfg, groups=1, kinds=("webhook",))
    services.webhook.fail(400, times=100)
    _, stats = run(deployment)
    assert stats.dead_lettered == 1 and len(events(deployment.cfg, "attempt")) == 1


def test_a_requeued_dead_letter_is_delivered_by_the_next_run(deployment, services, outbox):
    from lakesentinel.actions.dead_letter import requeue

    outbox(deployment.cfg, groups=1, kinds=("webhook",))
    services.webhook.fail(500, times=100)
    run(deployment, routes=deployment.write(attempts=2))
    services.clear_faults()
    requeued = requeue(Context(deployment.cfg).ops_tables, by="oncall@x.com")
    assert len(requeued) == 1
    _, stats = run(deployment)
    assert stats.delivered == 1 and len(services.webhook.accepted) == 1
    assert requeue(Context(deployment.cfg).ops_tables, by="oncall@x.com") == []  # nothing dead any more
