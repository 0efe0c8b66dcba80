"""The write tools: silence an incident (``plt_ops.silences``, as ``lakesentinel silences add``) and open
a Jira issue for one (the configured Jira receiver, as the delivery worker does). Only reached through
the approval gate in ``guard.py``."""

from __future__ import annotations

from datetime import timedelta

from lakesentinel.copilot.scope import Scope
from lakesentinel.copilot.tools import JiraIn, JiraOut, SilenceIn, SilenceOut, ToolEnv, ToolError


def _incident(env: ToolEnv, scope: Scope, incident_id: str) -> dict:
    """The incident, read with the scope in the query: one outside it is as absent as an unknown id."""
    rows = env.layer.rows("incident for an action", f"""
        SELECT * FROM {{gold}}.fact_incident WHERE {scope.predicate()} AND incident_id = '{incident_id}'""")
    if not rows:
        raise ToolError(f"incident {incident_id}: not found in your scope")
    return rows[0]


def silence_incident(env: ToolEnv, scope: Scope, args: SilenceIn) -> SilenceOut:
    from lakesentinel.alerts import silences
    from lakesentinel.durations import parse_duration

    row = _incident(env, scope, args.incident_id)
    now = env.now()
    end = now + timedelta(microseconds=parse_duration(args.duration))
    silence = silences.Silence.create([f"fingerprint={row['fingerprint']}"], now, end, env.user,
                                      f"copilot: {args.comment}", now=now)
    silences.add(env.layer.tables, silence)
    return SilenceOut(silence_id=silence.silence_id, matchers=list(silence.matchers), ends_at=silence.ends_at)


def open_jira_ticket(env: ToolEnv, scope: Scope, args: JiraIn) -> JiraOut:
    from lakesentinel.notify.notification import Notification, NotifiedIncident, idempotency_key

    row = _incident(env, scope, args.incident_id)
    jira = [(name, r) for name, r in env.receivers.items() if name.endswith("/jira")]
    if not jira:
        raise ToolError("open_jira_ticket: no Jira receiver is configured in the routes file")
    integration, receiver = jira[0]
    incident = NotifiedIncident(**{k: row.get(k) for k in NotifiedIncident.model_fields if k in row},
                                observed=row.get("last_observed"), expected=row.get("last_expected"))
    group = f"copilot|{row['incident_id']}"
    n = Notification(idempotency_key=idempotency_key(group, row["incident_id"], integration, 1), group_key=group,
                     group_hash=row["fingerprint"][:16], episode=row["incident_id"], route_id="copilot",
                     receiver=integration.split("/")[0], integration=integration, integration_type="jira", seq=1,
                     reason="firing", created_at=env.now(), incidents=[incident])
    outcome = receiver.notify(n, {})
    return JiraOut(integration=integration, key=(outcome.refs or {}).get("key"), status=outcome.status)
