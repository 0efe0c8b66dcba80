"""A worker run with every token configured, at DEBUG, through rate limits, server errors, a rejected
token, a hang and dead letters: no token (nor Jira's basic-auth form of one) appears in any log line or
in any table the run wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lakesentinel.notify.deliveries import DEAD_LETTER, DELIVERIES
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
