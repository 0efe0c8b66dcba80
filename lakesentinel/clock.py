"""Time as the lifecycle sees it: naive UTC datetimes (Spark's session time zone is UTC).

Every function that depends on time takes ``now``; this is only the default for the running monitor.

>>> from datetime import timedelta
>>> naive_utc(datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))))
datetime.datetime(2026, 3, 2, 6, 30)
"""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def naive_utc(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(timezone.utc).replace(tzinfo=None)
