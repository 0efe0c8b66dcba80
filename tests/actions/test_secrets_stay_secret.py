"""A worker run with every token configured, at DEBUG, through rate limits, server errors, a rejected
token, a hang and dead letters: no token (nor Jira's basic-auth form of one) appears in any log line or
in any table the run wrote."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

from lakesentinel.notify.deliveries import DEAD_LETTER, DELIVERIES
from lakesentinel.notify.outbox import OUTBOX
from lakesentinel.opstables import DeltaRsTables

ROOT = Path(__file__).resolve().parents[2]


def test_no_secret_reaches_a_log_line_or_a_table(deployment, services, outbox, forbidden):
    deployment.write(attempts=3, timeout="500ms")
    outbox(deployment.cfg, groups=2, kinds=("slack", "jira", "webhook", "sql_alert"))
    services.slack.fail(429, retry_after=0, times=2)
    services.jira.fail(401, times=100, path="rest/api/2/issue")  # the token is refused: permanent
    services.webhook.hang(2, times=1)
    services.databricks.fail(500, times=100)  # never recovers: dead letters with the last error

    env = {**deployment.env(), "LAKESENTINEL_LOG_LEVEL": "DEBUG"}
    done = subprocess.run([sys.executable, "-c", "from lakesentinel.cli.main import main; main()", "actions", "worker",
                           "--until-idle", "--timeout", "120"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line["level"] == "debug" for line in lines), "the run logged at DEBUG"
    assert any("dead-lettered" in line["msg"] for line in lines), "the failure paths ran"

    t = DeltaRsTables(deployment.cfg)
    written = json.dumps([t.read(t.name("ops", DELIVERIES)), t.read(t.name("ops", DEAD_LETTER))], default=str)
    assert "HTTP 401" in written or "401" in written
    for secret in forbidden:
        assert secret not in output, f"a secret ({secret[:6]}...) is in the log output"
        assert secret not in written, f"a secret ({secret[:6]}...) is in the delivery tables"


def test_credentials_echoed_back_in_every_encoding_are_masked_everywhere(deployment, services, outbox, forbidden,
                                                                          tmp_path):
    """Services that answer with the credential quoted back (as is, URL-encoded, JSON-escaped, repr'd,
    base64, and Jira's basic-auth header): the worker's logs and output, the outbox, the delivery log,
    the dead letters and `actions dead-letters` show none of it."""
    from tests.actions.conftest import JIRA_USER, TOKENS, every_form

    slack, jira, dbx = TOKENS["LS_TEST_SLACK_TOKEN"], TOKENS["LS_TEST_JIRA_TOKEN"], TOKENS["LS_TEST_DATABRICKS_TOKEN"]
    basic = base64.b64encode(f"{JIRA_USER}:{jira}".encode()).decode()
    deployment.write(attempts=2, timeout="1s")
    outbox(deployment.cfg, groups=1, kinds=("slack", "jira", "sql_alert"))
    services.slack.fail(200, times=100, path="chat.postMessage",
                        body={"ok": False, "error": f"invalid_auth for {quote_plus(slack)} ({slack}) {json.dumps(slack)}"})
    services.jira.fail(401, times=100, body={"errorMessages": [f"Authorization: Basic {basic} refused",
                                                              f"token={quote(jira, safe='')}", repr(jira),
                                                              base64.b64encode(jira.encode()).decode()]})
    services.databricks.fail(403, times=100, body={"error_code": "PERMISSION_DENIED",
                                                   "message": f"token {dbx!r} / {quote(dbx)} / "
                                                              f"{base64.urlsafe_b64encode(dbx.encode()).decode()} refused"})
    env = {**deployment.env(), "LAKESENTINEL_LOG_LEVEL": "DEBUG"}
    run = [sys.executable, "-c", "from lakesentinel.cli.main import main; main()", "actions"]
    worker = subprocess.run([*run, "worker", "--until-idle", "--timeout", "120", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, (worker.stdout + worker.stderr)[-3000:]
    assert json.loads(worker.stdout.strip().splitlines()[-1])["dead_lettered"] == 3, "every service refused"
    listing = [subprocess.run([*run, "dead-letters", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)]  # the JSON form carries each last error whole
    assert all(r.returncode == 0 for r in listing), listing[0].stderr[-3000:]
    assert len(listing[0].stdout.strip().splitlines()) == 3, listing[0].stdout[-3000:]

    t = DeltaRsTables(deployment.cfg)
    tables = json.dumps([t.read(t.name("ops", name)) for name in (DELIVERIES, DEAD_LETTER, OUTBOX)], default=str)
    assert "invalid_auth" in tables and "PERMISSION_DENIED" in tables and "refused" in tables, "the errors are kept"
    seen = {"worker output": worker.stdout + worker.stderr, "tables": tables,
            "dead-letters": "".join(r.stdout + r.stderr for r in listing)}
    assert set(every_form(jira)) <= set(forbidden) and len(forbidden) > 20
    for where, text in seen.items():
        leaked = [f for f in forbidden if f in text]
        assert not leaked, f"{len(leaked)} form(s) of a secret in the {where}, e.g. {leaked[0][:5]}..."
