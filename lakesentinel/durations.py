"""Durations as people write them in YAML and on the command line (``30s``, ``5m``, ``4h``, ``1d``, ``1h30m``),
held as integer microseconds like every other time in the lifecycle.

>>> parse_duration("1h30m"), parse_duration("500ms"), format_duration(parse_duration("90s"))
(5400000000, 500000, '1m30s')
"""

from __future__ import annotations

import re

SECOND = 1_000_000
_UNITS = {"ms": 1_000, "s": SECOND, "m": 60 * SECOND, "h": 3600 * SECOND, "d": 86400 * SECOND, "w": 7 * 86400 * SECOND}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")


def parse_duration(text: str | int) -> int:
    """Microseconds in ``text``; a bare number is seconds. Raises ValueError naming the text."""
    if isinstance(text, int):
        return text * SECOND
    s = str(text).strip().replace(" ", "")
    if s.isdigit():
        return int(s) * SECOND
    parts = _PART.findall(s)
    if not s or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"not a duration: {text!r} (write e.g. 30s, 5m, 4h, 1d or 1h30m)")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def format_duration(us: int) -> str:
    if us <= 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        n, us = divmod(us, _UNITS[unit])
        if n:
            out.append(f"{n}{unit}")
    if us and not out:
        out.append(f"{us // 1000}ms")
    return "".join(out)


def _to_timedelta(value):
    from datetime import timedelta

    if isinstance(value, timedelta):
        return value
    return timedelta(microseconds=parse_duration(value))


def _duration_type():
    from datetime import timedelta
    from typing import Annotated

    from pydantic import BeforeValidator, PlainSerializer

    return Annotated[timedelta, BeforeValidator(_to_timedelta),
                     PlainSerializer(lambda td: format_duration(int(td.total_seconds() * SECOND)), return_type=str)]


# A pydantic field type: "30s", "5m", 90 (seconds) or a timedelta in, a timedelta held.
Duration = _duration_type()
