"""An integration the worker cannot build (its secret is not set where it runs) holds its notifications:
the others are delivered, nothing is dead-lettered, and a worker that can build it delivers them later."""

from __future__ import annotations

import logging
import threading

from lakesentinel.notify.deliveries import DELIVERIES
from lakesentinel.opstables import DeltaRsTables
from lakesentinel.context import Context
from tests.actions.conftest import TOKENS


def test_missing_secret_holds_that_integration_and_delivers_the_rest(deployment, services, outbox, monkeypatch, caplog):
    outbox(deployment.cfg, groups=2, kinds=("slack", "webhook"))
    monkeypatch.delenv("LS_TEST_SLACK_TOKEN")
    with caplog.at_level(logging.ERROR, logger="lakesentinel.actions.worker"):
        stats = Context(deployment.cfg, routes=deployment.write()).worker(threading.Event(), sleep=lambda s: None).run(
            until_idle=True, timeout=60)
    assert (stats.delivered, stats.held, stats.dead_lettered) == (2, 2, 0)
    assert len(services.webhook.accepted) == 2 and services.slack.requests == []
    assert "all/slack is not available" in caplog.text and "LS_TEST_SLACK_TOKEN" in caplog.text
    t = DeltaRsTables(deployment.cfg)
    assert {r["integration"] for r in t.read(t.name("ops", DELIVERIES))} == {"all/webhook"}, \
        "held notifications leave no attempt behind"

    monkeypatch.setenv("LS_TEST_SLACK_TOKEN", TOKENS["LS_TEST_SLACK_TOKEN"])
    again = Context(deployment.cfg, routes=deployment.write()).worker(threading.Event(), sleep=lambda s: None).run(
        until_idle=True, timeout=60)
    assert (again.delivered, again.held) == (2, 0)
    assert len(services.slack.top_level()) == 2 and len(services.webhook.accepted) == 2
