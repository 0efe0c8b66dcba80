"""A notification: what one integration is asked to say about one aggregation group, once.

Part of the notify seam: the lifecycle (``alerts/``) builds notifications and the delivery worker
(``actions/``) sends them; both import this module, neither imports the other.

The lifecycle writes one per (group flush, integration) to ``plt_ops.action_outbox``; the worker hands
it to the integration. ``idempotency_key`` is derived from the group, its episode (the incident that
opened it), the integration and the group's notification number, all of which come from the data, so
recomputing a step after a crash yields the same key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from lakesentinel.severity import severity_rank

Reason = Literal["firing", "update", "repeat", "resolved"]


def idempotency_key(group_key: str, episode: str, integration: str, seq: int) -> str:
    return hashlib.sha256(f"{group_key}|{episode}|{integration}|{seq}".encode()).hexdigest()[:32]


class NotifiedIncident(BaseModel):
    """The part of an incident a receiver shows."""

    incident_id: str
    fingerprint: str
    status: str
    severity: str
    domain: str
    rule_id: str
    title: str
    summary: str = ""
    workspace_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    first_seen: datetime
    last_seen: datetime
    alert_count: int
    observed: float | None = None
    expected: float | None = None
    cost_impact: Decimal | None = None
    runbook_url: str | None = None
    acknowledged_by: str | None = None
    resolved_by: str | None = None
    resolution: str | None = None


class Notification(BaseModel):
    idempotency_key: str
    group_key: str
    group_hash: str
    episode: str  # incident id that opened the group; a new episode gets a new Slack message and Jira issue
    route_id: str
    receiver: str
    integration: str  # "<receiver>/<type>"
    integration_type: str
    seq: int  # the group's notification number, from 1
    reason: Reason
    created_at: datetime
    group_labels: dict[str, str] = Field(default_factory=dict)
    incidents: list[NotifiedIncident]

    @property
    def firing(self) -> list[NotifiedIncident]:
        return [i for i in self.incidents if i.status != "resolved"]

    @property
    def resolved(self) -> list[NotifiedIncident]:
        return [i for i in self.incidents if i.status == "resolved"]

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"

    @property
    def severity(self) -> str:
        pool = self.firing or self.incidents
        return max((i.severity for i in pool), key=severity_rank)

    @property
    def title(self) -> str:
        pool = self.firing or self.incidents
        head = max(pool, key=lambda i: severity_rank(i.severity))
        more = f" (+{len(pool) - 1} more)" if len(pool) > 1 else ""
        return f"{head.title}{more}"

    @property
    def incident_ids(self) -> list[str]:
        return [i.incident_id for i in self.incidents]
