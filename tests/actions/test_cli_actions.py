"""``lakesentinel actions dead-letters`` and ``actions retry`` against the fakes."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from lakesentinel.context import Context
from lakesentinel.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(deployment, monkeypatch):
    from lakesentinel import settings as settings_module

    for k, v in deployment.env().items():
        if k.startswith("LAKESENTINEL") or k.startswith("LS_TEST"):
            monkeypatch.setenv(k, v)
    settings_module.settings.cache_clear()
    yield
    settings_module.settings.cache_clear()


def test_dead_letters_are_listed_and_retried_from_the_cli(deployment, services, outbox, cli_env):
    outbox(deployment.cfg, groups=2, kinds=("webhook",))
    services.webhook.fail(500, times=100)
    Context(deployment.cfg, routes=deployment.write(attempts=2)).worker(threading.Event(), sleep=lambda s: None).run(until_idle=True)

    listed = runner.invoke(app, ["actions", "dead-letters", "--json"])
    assert listed.exit_code == 0, listed.output
    dead = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(dead) == 2 and all("HTTP 500" in d["last_error"] and d["attempts"] == 2 for d in dead)

    services.clear_faults()
    one = runner.invoke(app, ["actions", "retry", "--key", dead[0]["idempotency_key"][:10], "--json"])
    assert one.exit_code == 0, one.output
    summary = json.loads(one.stdout.splitlines()[-1])
    assert summary["requeued"] == [dead[0]["idempotency_key"]] and summary["delivered"] == 1
    assert len(services.webhook.accepted) == 1
    rest = runner.invoke(app, ["actions", "retry", "--json"])
    assert json.loads(rest.stdout.splitlines()[-1])["delivered"] == 1
    assert len(services.webhook.accepted) == 2
    assert runner.invoke(app, ["actions", "dead-letters", "--json"]).stdout.strip() == ""
    missing = runner.invoke(app, ["actions", "retry", "--key", "zzz"])
    assert missing.exit_code != 0 and "no dead letter has that key" in str(missing.exception)
