"""Aggregation groups and their timers (Alertmanager's dispatcher and dedup stage).

A group holds the incidents that share a route and the values of its ``group_by`` labels. It first
flushes ``group_wait`` after it was created, then every ``group_interval``. A flush notifies when an
incident appeared or resolved since the last notification, or when ``repeat_interval`` has passed
while something still fires (unless every firing incident is acknowledged). Muted incidents are left
out; resolved ones leave the group once a notification has said so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from pydantic import BaseModel, Field

from lakesentinel.notify.notification import Reason
from lakesentinel.alerts.incidents import Incident
from lakesentinel.alerts.routes import Route


class Group(BaseModel):
    key: str
    episode: str  # the incident that created the group: keys notifications apart from a later group of the same key
    route_id: str
    receiver: str
    labels: dict[str, str] = Field(default_factory=dict)
    members: list[str] = Field(default_factory=list)  # incident ids, in arrival order
    created_at: datetime
    next_flush_at: datetime
    seq: int = 0
    last_notified_at: datetime | None = None
    notified_firing: list[str] = Field(default_factory=list)
    flushed_at: datetime | None = None  # the last flush, whether or not it notified (None: still in group_wait)

    @classmethod
    def create(cls, key: str, route: Route, labels: dict[str, str], first: str, now: datetime) -> "Group":
        return cls(key=key, episode=first, route_id=route.id, receiver=route.receiver, labels=labels,
                   members=[first], created_at=now, next_flush_at=now + route.group_wait)

    def add(self, incident_id: str) -> None:
        if incident_id not in self.members:
            self.members.append(incident_id)

    def due(self, now: datetime) -> bool:
        return now >= self.next_flush_at

    def flush(self, route: Route, incidents: Callable[[str], Incident | None], now: datetime
              ) -> tuple[Reason | None, list[Incident]]:
        """Decide what this flush says; returns the reason (None: stay quiet) and the incidents to show.

        Updates the group: sequence number, what was notified, the next flush, and drops members that
        have resolved (or vanished) once they are accounted for.
        """
        present = [inc for iid in self.members if (inc := incidents(iid)) is not None]
        firing = [i for i in present if i.firing]
        resolved = [i for i in present if i.status == "resolved" and i.incident_id in self.notified_firing]
        firing_ids = {i.incident_id for i in firing}
        new = firing_ids - set(self.notified_firing)

        reason: Reason | None = None
        if new:
            reason = "firing" if self.seq == 0 else "update"
        elif resolved:
            reason = "update" if firing else "resolved"
        elif firing and self.last_notified_at is not None and not all(i.status == "acknowledged" for i in firing):
            if now - self.last_notified_at >= route.repeat_interval:
                reason = "repeat"

        shown = firing + resolved if reason else []
        if reason:
            self.seq += 1
            self.last_notified_at = now
            self.notified_firing = sorted(firing_ids)
        elif not firing:
            self.notified_firing = []
        # Members leave once resolved (reported now, or never shown) or gone from state.
        self.members = [i.incident_id for i in present if i.active]
        self.next_flush_at = now + route.group_interval
        self.flushed_at = now
        return reason, shown

    @property
    def empty(self) -> bool:
        return not self.members
