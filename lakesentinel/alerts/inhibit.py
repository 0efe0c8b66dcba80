"""Inhibition: a firing source incident mutes target incidents that share the ``equal`` labels.

With the default rule a critical incident mutes lesser ones on the same workspace and entity, so
the on-call engineer gets the root cause rather than its echoes. Like a silence it is a Muter:
``mutes(labels, now)`` names what mutes, or returns None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

from lakesentinel.alerts.incidents import Incident
from lakesentinel.alerts.routes import InhibitRule


class Inhibitor:
    def __init__(self, rules: Iterable[InhibitRule], incidents: Iterable[Incident]):
        self.rules = list(rules)
        # Only firing incidents inhibit; a silenced source still does (as in Alertmanager).
        self.sources = [i for i in incidents if i.active]

    def mutes(self, labels: Mapping[str, str | None], now: datetime, *, fingerprint: str | None = None) -> str | None:
        for rule in self.rules:
            if not rule.target.matches(labels):
                continue
            for src in self.sources:
                if src.fingerprint == fingerprint or not rule.source.matches(src.labels):
                    continue
                if all((src.labels.get(k) or "") == (labels.get(k) or "") for k in rule.equal):
                    return f"inhibited:{src.incident_id}"
        return None
