"""Triggers from configuration: the same stream runs continuously for the monitor or drains and stops."""

from __future__ import annotations

from lakesentinel.settings import Settings


def trigger(cfg: Settings, stream: str, scheduled: bool) -> dict:
    """Keyword arguments for ``DataStreamWriter.trigger``."""
    if scheduled:
        return {"availableNow": True} if cfg.triggers.scheduled == "available_now" else {"once": True}
    return {"processingTime": cfg.triggers.per_stream.get(stream, cfg.triggers.continuous)}


def interval_seconds(cfg: Settings, stream: str) -> float:
    """The continuous trigger as seconds, for batch tasks that loop at the same pace."""
    text = cfg.triggers.per_stream.get(stream, cfg.triggers.continuous).strip().lower()
    number, _, unit = text.partition(" ")
    factor = {"": 1, "second": 1, "seconds": 1, "minute": 60, "minutes": 60, "ms": 0.001,
              "millisecond": 0.001, "milliseconds": 0.001}[unit.strip()]
    return float(number) * factor
