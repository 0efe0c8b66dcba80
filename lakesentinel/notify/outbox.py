"""``plt_ops.action_outbox``: one row per notification, written by the lifecycle, read by the worker.

The outbox decouples scoring from delivery: the lifecycle only appends (one commit per step), the
worker delivers at its own pace and records what happened in ``plt_ops.action_deliveries``. The
``payload`` column holds the whole notification as JSON, so a row is all a receiver needs.
"""

from __future__ import annotations

import json

from lakesentinel.notify.notification import Notification
from lakesentinel.sources.types import parse_columns

OUTBOX = "action_outbox"

OUTBOX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("idempotency_key", "string"),
    ("group_key", "string"),
    ("group_hash", "string"),
    ("episode", "string"),
    ("route_id", "string"),
    ("receiver", "string"),
    ("integration", "string"),
    ("integration_type", "string"),
    ("seq", "int"),
    ("reason", "string"),  # firing | update | repeat | resolved
    ("status", "string"),  # firing | resolved
    ("severity", "string"),
    ("title", "string"),
    ("incident_ids", "array<string>"),
    ("payload", "string"),  # the Notification as JSON
    ("created_at", "timestamp"),
    ("date_key", "int"),
)
OUTBOX_SCHEMA = parse_columns(list(OUTBOX_COLUMNS))


def outbox_row(n: Notification) -> dict:
    return {"idempotency_key": n.idempotency_key, "group_key": n.group_key, "group_hash": n.group_hash,
            "episode": n.episode, "route_id": n.route_id, "receiver": n.receiver, "integration": n.integration,
            "integration_type": n.integration_type, "seq": n.seq, "reason": n.reason, "status": n.status,
            "severity": n.severity, "title": n.title, "incident_ids": n.incident_ids,
            "payload": n.model_dump_json(), "created_at": n.created_at,
            "date_key": int(n.created_at.strftime("%Y%m%d"))}


def notification_of(row: dict) -> Notification:
    return Notification.model_validate(json.loads(row["payload"]))
