"""What every receiver implements: one notification in, one :class:`Outcome` out.

A receiver turns one :class:`~lakesentinel.notify.notification.Notification` into calls on one
service and reports an :class:`Outcome`; it never sleeps or retries (the worker does, with backoff,
honouring ``retry_after``). ``refs`` are the external references of earlier deliveries in the same
thread (the same integration, group and episode): Slack ``channel``/``ts``, Jira ``key``, SQL alert
``alert_id``/``query_id``. A re-notification uses them to update the same message or issue.

``find_delivered`` answers, before a re-send, whether an earlier attempt already reached the service
(a worker killed between sending and recording): it looks for the notification's idempotency key
where the service keeps it, and returns the delivered outcome, ``None`` (not there: send), or a
retryable outcome when it cannot tell yet.

>>> classify_http(503, "7").status, classify_http(503, "7").retry_after, classify_http(404).status
('retryable', 7.0, 'permanent')
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Literal, Mapping, Protocol

from lakesentinel.notify.notification import Notification
from lakesentinel.logs import redact

Status = Literal["delivered", "retryable", "permanent"]

# Statuses worth another try: timeouts, throttling and server-side failures. Other 4xx will not change.
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    status: Status
    refs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None  # seconds the service asked us to wait (429 Retry-After)

    @classmethod
    def delivered(cls, refs: Mapping[str, str] | None = None) -> "Outcome":
        return cls("delivered", dict(refs or {}))

    @classmethod
    def retryable(cls, error: str, retry_after: float | None = None) -> "Outcome":
        return cls("retryable", error=redact(error), retry_after=retry_after)

    @classmethod
    def permanent(cls, error: str) -> "Outcome":
        return cls("permanent", error=redact(error))


class Receiver(Protocol):
    integration: str  # "<receiver>/<type>"

    def notify(self, notification: Notification, refs: Mapping[str, str]) -> Outcome: ...

    def find_delivered(self, notification: Notification, refs: Mapping[str, str]) -> Outcome | None: ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_http(status: int, retry_after: str | None = None, detail: str = "") -> Outcome:
    """The outcome of an HTTP status: 2xx delivered, 408/425/429/5xx retryable, other 4xx permanent."""
    if 200 <= status < 300:
        return Outcome.delivered()
    error = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status in RETRYABLE_HTTP or status >= 500:
        return Outcome.retryable(error, parse_retry_after(retry_after))
    return Outcome.permanent(error)


def transport_error(exc: BaseException) -> Outcome:
    """Timeouts, refused or reset connections: the request may not have arrived, so try again."""
    return Outcome.retryable(f"{type(exc).__name__}: {exc}")
