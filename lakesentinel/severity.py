"""Severities, lowest first: one order for alerts, incidents, notifications and detectors.

>>> severity_rank("high") > severity_rank("low"), severity_rank(None)
(True, -1)
"""

from __future__ import annotations

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1
