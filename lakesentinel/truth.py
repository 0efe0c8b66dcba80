"""The one ground-truth matcher: does a signal fall on an injected scenario, in time and entity?

The demo's verdict (``evaluation.py``, incidents), the rule backtests (``rules/backtest.py``, alerts)
and the detector evaluation (``detectors/evaluation.py``, runs of alerting windows) all match through
:func:`overlaps` and :func:`truth_names`. How much time slack each allows is set here, side by side,
because the three signals span time differently: an incident runs from its first to its last alert
and may open on the day's baseline before the scenario's own rows (a day before, six hours after); a
rule alert is one window (an hour either way); a detector's run of windows is judged after the window
closes (up to one window, at least 15 minutes, after the scenario's end).

>>> from datetime import datetime as dt
>>> overlaps(dt(2026, 3, 2, 10), dt(2026, 3, 2, 11), dt(2026, 3, 2, 11, 30), dt(2026, 3, 2, 12), ALERT_SLACK)
True
>>> overlaps(dt(2026, 3, 2, 8), dt(2026, 3, 2, 9), dt(2026, 3, 2, 11, 30), dt(2026, 3, 2, 12), ALERT_SLACK)
False
>>> sorted(truth_names({"entity_id": "u1", "entities": {"ip": "10.0.0.1"}}))
['10.0.0.1', 'u1']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Slack:
    """How far before a scenario's start and after its end a signal may lie and still be on it."""

    before: timedelta
    after: timedelta
    inclusive: bool = True  # whether touching ends count


INCIDENT_SLACK = Slack(before=timedelta(hours=24), after=timedelta(hours=6))
ALERT_SLACK = Slack(before=timedelta(hours=1), after=timedelta(hours=1))


def detection_slack(window: Any) -> Slack:
    """A detector's run of windows: judged when its window closes, so up to a window (at least 15
    minutes) after the scenario's end, and nothing before its start."""
    return Slack(before=window * 0, after=max(window, type(window)(minutes=15)), inclusive=False)


def overlaps(start: Any, end: Any, truth_start: Any, truth_end: Any, slack: Slack) -> bool:
    """``[start, end]`` meets ``[truth_start - before, truth_end + after]``."""
    if slack.inclusive:
        return start <= truth_end + slack.after and end >= truth_start - slack.before
    return start < truth_end + slack.after and end > truth_start - slack.before


def truth_names(truth: Any) -> set[str]:
    """Every identifier of a scenario's entities: its entity id and the values of its ``entities`` map."""
    get = truth.get if isinstance(truth, dict) else (lambda k: getattr(truth, k, None))
    entities = get("entities")
    ids = {get("entity_id")} | set(dict(entities).values() if entities else ())
    return {i for i in ids if i}
