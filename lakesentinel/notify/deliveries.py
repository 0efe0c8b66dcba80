"""``plt_ops.action_deliveries`` (the notification log) and ``plt_ops.action_dead_letter``.

Before it touches a notification a worker appends a ``claimed`` row (a lease: ``refs`` holds its
``claim`` id and ``lease_until``); claims are settled in commit order, the same way by every reader, so
of two workers (or a worker and ``actions retry``) claiming at once exactly one holds the notification.
The holder renews its claim before each backoff wait, and ``released`` gives it up early (a stopping
worker). A claim of a process on the same host that no longer runs is overridden at once
(``voids`` names it); any other one only once it has expired.

The worker appends an ``attempt`` row *before* it calls a receiver and a ``delivered``, ``failed`` or
``dead_lettered`` row after, so a worker killed mid-delivery leaves an attempt without an outcome:
on restart that notification is checked at the receiver before anything is sent again. ``refs``
holds what a delivery created (Slack channel and ts, Jira key, SQL alert id); the next notification
of the same thread (integration, group, episode) starts from them, and the lifecycle copies them
into ``fact_incident``. ``requeued`` rows (``lakesentinel actions retry``) give a dead letter a new try.
"""

from __future__ import annotations

from lakesentinel.sources.types import parse_columns

DELIVERIES = "action_deliveries"
DEAD_LETTER = "action_dead_letter"

EVENTS = ("claimed", "released", "attempt", "delivered", "failed", "dead_lettered", "requeued")
TERMINAL = ("delivered", "dead_lettered")

DELIVERY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("idempotency_key", "string"),
    ("integration", "string"),
    ("group_key", "string"),
    ("episode", "string"),
    ("event", "string"),
    ("attempt", "int"),
    ("at", "timestamp"),
    ("error", "string"),  # redacted
    ("refs", "map<string,string>"),
    ("incident_ids", "array<string>"),
    ("worker", "string"),
)
DELIVERY_SCHEMA = parse_columns(list(DELIVERY_COLUMNS))

DEAD_LETTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("idempotency_key", "string"),
    ("integration", "string"),
    ("receiver", "string"),
    ("group_key", "string"),
    ("attempts", "int"),
    ("last_error", "string"),  # redacted
    ("payload", "string"),
    ("dead_lettered_at", "timestamp"),
    ("date_key", "int"),
)
DEAD_LETTER_SCHEMA = parse_columns(list(DEAD_LETTER_COLUMNS))

