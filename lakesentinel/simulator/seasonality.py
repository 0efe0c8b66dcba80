"""How busy the organisation is at a moment: daily and weekly cycles times growth.

>>> from lakesentinel.simulator.clock import to_us
>>> from datetime import datetime
>>> busy = activity(to_us(datetime(2026, 3, 4, 14)), to_us(datetime(2026, 3, 1)), 0.0)
>>> quiet = activity(to_us(datetime(2026, 3, 4, 3)), to_us(datetime(2026, 3, 1)), 0.0)
>>> busy > 5 * quiet
True
"""

from __future__ import annotations

from lakesentinel.simulator.clock import DAY, hour_of_day, weekday

# Relative load per UTC hour: a working day centred on 09:00-18:00 with a lunch dip.
HOURLY = (
    0.08, 0.06, 0.05, 0.05, 0.06, 0.10, 0.22, 0.45, 0.80, 1.00, 1.00, 0.95,
    0.80, 0.95, 1.00, 1.00, 0.95, 0.80, 0.55, 0.35, 0.25, 0.18, 0.13, 0.10,
)
WEEKLY = (1.0, 1.05, 1.05, 1.0, 0.9, 0.25, 0.2)  # Monday .. Sunday


def activity(t_us: int, start_us: int, growth_per_day: float) -> float:
    days = max(0.0, (t_us - start_us) / DAY)
    return HOURLY[hour_of_day(t_us)] * WEEKLY[weekday(t_us)] * (1.0 + growth_per_day) ** days
