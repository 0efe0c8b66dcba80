"""Simulated time is integer microseconds since the epoch, UTC (what Delta stores for TIMESTAMP)."""

from __future__ import annotations

from datetime import date, datetime, timezone

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def to_us(value: datetime | date) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * SECOND)
    return to_us(datetime(value.year, value.month, value.day, tzinfo=timezone.utc))


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / SECOND, tz=timezone.utc)


def day_number(us: int) -> int:
    """Days since the epoch: Arrow's date32 value for the UTC date of ``us``."""
    return us // DAY


def hour_of_day(us: int) -> int:
    return (us % DAY) // HOUR


def weekday(us: int) -> int:
    """Monday is 0 (1970-01-01 was a Thursday)."""
    return (us // DAY + 3) % 7
