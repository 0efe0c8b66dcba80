"""Dead letters: notifications the worker gave up on, and how to give them another try.

A notification is dead while its latest event in ``plt_ops.action_deliveries`` is ``dead_lettered``.
``requeue`` appends a ``requeued`` event (who, when), which resets its attempts: a running worker
picks it up within a poll, or the next ``lakesentinel actions deliver`` does.
"""

from __future__ import annotations

from datetime import datetime

from lakesentinel.clock import utcnow
from lakesentinel.notify.deliveries import DEAD_LETTER, DELIVERIES, DELIVERY_SCHEMA
from lakesentinel.opstables import Tables


def dead_letters(tables: Tables) -> list[dict]:
    """The dead-letter rows whose notification is still dead (newest first)."""
    latest: dict[str, dict] = {}
    for row in tables.read(tables.name("ops", DELIVERIES)):
        prev = latest.get(row["idempotency_key"])
        if prev is None or (row["at"], row["event"] == "requeued") >= (prev["at"], prev["event"] == "requeued"):
            latest[row["idempotency_key"]] = row
    dead = [r for r in tables.read(tables.name("ops", DEAD_LETTER))
            if latest.get(r["idempotency_key"], {}).get("event") == "dead_lettered"]
    newest: dict[str, dict] = {}
    for r in dead:  # a notification dead-lettered twice (after a requeue) shows its last death
        if r["idempotency_key"] not in newest or r["dead_lettered_at"] > newest[r["idempotency_key"]]["dead_lettered_at"]:
            newest[r["idempotency_key"]] = r
    return sorted(newest.values(), key=lambda r: r["dead_lettered_at"], reverse=True)


def requeue(tables: Tables, *, by: str, keys: list[str] | None = None, integration: str | None = None,
            now: datetime | None = None) -> list[dict]:
    """Give dead letters (all, or those with these keys or of this integration) a new round of attempts."""
    now = now or utcnow()
    chosen = [d for d in dead_letters(tables)
              if (keys is None or d["idempotency_key"] in keys) and (integration is None or d["integration"] == integration)]
    rows = [{"idempotency_key": d["idempotency_key"], "integration": d["integration"], "group_key": d["group_key"],
             "episode": None, "event": "requeued", "attempt": 0, "at": now, "error": None, "refs": {},
             "incident_ids": [], "worker": f"requeued by {by}"} for d in chosen]
    tables.append(tables.name("ops", DELIVERIES), rows, DELIVERY_SCHEMA)
    return chosen
