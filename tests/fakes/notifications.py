"""Notifications built from a few fields, for the receivers' tests."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from lakesentinel.notify.notification import Notification, NotifiedIncident, idempotency_key

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def incident(n: int = 1, *, status: str = "open", severity: str = "critical", **over) -> NotifiedIncident:
    fields = dict(incident_id=f"inc{n:04d}", fingerprint=f"{n:016x}", status=status, severity=severity,
                  domain="security", rule_id="security.brute_force_login", title=f"Failed logins for user{n}@x.com",
                  summary="30 failed logins in 20 minutes from 198.51.100.7", workspace_id="1001",
                  entity_type="user", entity_id=f"user{n}@x.com", first_seen=T0, last_seen=T0, alert_count=3,
                  observed=30.0, expected=5.0, cost_impact=Decimal("12.5"), runbook_url="https://runbooks.example.com/bf")
    fields.update(over)
    return NotifiedIncident(**fields)


def notification(seq: int = 1, reason: str = "firing", *, incidents: list[NotifiedIncident] | None = None,
                 integration: str = "secops/slack", group_key: str = 'root:{"rule_id":"security.brute_force_login"}',
                 episode: str = "inc0001", created_at: datetime = T0) -> Notification:
    receiver, kind = integration.split("/")
    return Notification(
        idempotency_key=idempotency_key(group_key, episode, integration, seq), group_key=group_key,
        group_hash="9f1c2a7b3d4e5f60", episode=episode, route_id="security-urgent", receiver=receiver,
        integration=integration, integration_type=kind, seq=seq, reason=reason, created_at=created_at,
        group_labels={"rule_id": "security.brute_force_login", "workspace_id": "1001"},
        incidents=incidents if incidents is not None else [incident(1, status="resolved" if reason == "resolved" else "open")])
