"""The lifecycle as a pure function of time: alerts, commands and silences in; notifications and
changed incidents out. No Spark, no I/O, no clock: ``step(now, ...)`` is all there is, so every rule
of the lifecycle is tested as a timeline.

One step runs the stages in a fixed order:

1. commands     acknowledge or resolve incidents (from the CLI)
2. ingest       validate each alert (bad ones are quarantined with the reason), dedup by fingerprint
                into its open incident or open a new one, route it, put it in its groups
3. auto-resolve incidents whose signal stopped for their route's ``resolve_timeout``
4. mute         silences, then inhibition (both are Muters: ``mutes(labels, now)``)
5. flush        every group that is due decides whether to notify (see groups.py); one notification
                per integration of the group's receiver
6. references   external references reported by the worker (Jira key, Slack ts) reach incidents
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from lakesentinel.notify.notification import Notification, NotifiedIncident, idempotency_key
from lakesentinel.clock import naive_utc
from lakesentinel.alerts.groups import Group
from lakesentinel.alerts.incidents import AUTO, Incident
from lakesentinel.alerts.inhibit import Inhibitor
from lakesentinel.alerts.record import Alert
from lakesentinel.alerts.routes import Routes, group_hash
from lakesentinel.alerts.silences import Silence, Silencer

# Fields of the alert record that are labels too; they win over same-named custom labels.
CORE_LABELS = ("kind", "rule_id", "domain", "severity", "workspace_id", "entity_type", "entity_id", "fingerprint")


def routing_labels(alert: Alert) -> dict[str, str]:
    labels = {k: v for k, v in alert.labels.items() if v is not None}
    labels.update({k: getattr(alert, k) for k in CORE_LABELS if getattr(alert, k) is not None})
    return labels


@dataclass(frozen=True)
class Command:
    """An acknowledgement or manual resolution, as recorded in ``plt_ops.incident_commands``."""

    command_id: str
    action: str  # ack | resolve
    incident_id: str
    by: str
    note: str
    requested_at: datetime

    @classmethod
    def make(cls, action: str, incident_id: str, by: str, note: str, now: datetime) -> "Command":
        cid = hashlib.sha256(f"{action}|{incident_id}|{by}|{now.isoformat()}".encode()).hexdigest()[:16]
        return cls(cid, action, incident_id, by, note, now)


@dataclass(frozen=True)
class Delivered:
    """An integration's delivery, as the worker recorded it, with the references it created."""

    integration: str
    incident_ids: tuple[str, ...]
    refs: Mapping[str, str]
    delivered_at: datetime


@dataclass
class StepResult:
    notifications: list[Notification] = field(default_factory=list)
    changed: dict[str, Incident] = field(default_factory=dict)  # by incident_id
    quarantined: list[tuple[dict, str]] = field(default_factory=list)  # (row, reason)
    commands: list[tuple[Command, str]] = field(default_factory=list)  # (command, outcome)
    unknown_refs: list[Delivered] = field(default_factory=list)  # for incidents no longer in state

    @property
    def empty(self) -> bool:
        return not (self.notifications or self.changed or self.quarantined or self.commands or self.unknown_refs)


def notified(inc: Incident) -> NotifiedIncident:
    """The part of an incident a receiver shows."""
    return NotifiedIncident(
        incident_id=inc.incident_id, fingerprint=inc.fingerprint, status=inc.status, severity=inc.severity,
        domain=inc.domain, rule_id=inc.rule_id, title=inc.title, summary=inc.summary, workspace_id=inc.workspace_id,
        entity_type=inc.entity_type, entity_id=inc.entity_id, first_seen=inc.first_seen, last_seen=inc.last_seen,
        alert_count=inc.alert_count, observed=inc.last_observed, expected=inc.last_expected,
        cost_impact=inc.cost_impact, runbook_url=inc.runbook_url, acknowledged_by=inc.acknowledged_by,
        resolved_by=inc.resolved_by, resolution=inc.resolution)


class Engine:
    def __init__(self, routes: Routes, incidents: Iterable[Incident] = (), groups: Iterable[Group] = ()):
        self.routes = routes
        self.incidents: dict[str, Incident] = {i.incident_id: i for i in incidents}
        self.groups: dict[str, Group] = {g.key: g for g in groups}
        self.silences: list[Silence] = []

    # ---- state ---------------------------------------------------------------------------------
    def open_incident(self, fingerprint: str) -> Incident | None:
        return next((i for i in self.incidents.values() if i.fingerprint == fingerprint and i.active), None)

    def snapshot(self) -> dict[str, Any]:
        return {"incidents": [i.model_dump(mode="json") for i in self.incidents.values()],
                "groups": [g.model_dump(mode="json") for g in self.groups.values()]}

    @classmethod
    def restore(cls, routes: Routes, snapshot: Mapping[str, Any]) -> "Engine":
        return cls(routes, [Incident.model_validate(i) for i in snapshot.get("incidents", [])],
                   [Group.model_validate(g) for g in snapshot.get("groups", [])])

    # ---- one step ------------------------------------------------------------------------------
    def step(self, now: datetime, alerts: Iterable[Mapping[str, Any]] = (), commands: Iterable[Command] = (),
             silences: Iterable[Silence] | None = None, deliveries: Iterable[Delivered] = ()) -> StepResult:
        result = StepResult()
        if silences is not None:
            self.silences = list(silences)
        for cmd in commands:
            self._apply(cmd, now, result)
        for row in sorted(alerts, key=lambda r: (r.get("detected_at") is None, r.get("detected_at") or now)):
            self._ingest(row, now, result)
        self._auto_resolve(now, result)
        self._mute(now, result)
        self._flush(now, result)
        for d in deliveries:
            self._refs(d, result)
        self._forget_finished()
        return result

    def _apply(self, cmd: Command, now: datetime, result: StepResult) -> None:
        inc = self.incidents.get(cmd.incident_id)
        if inc is None or not inc.active:
            result.commands.append((cmd, "not applied: the incident is not open (resolved already, or unknown)"))
            return
        if cmd.action == "ack":
            if inc.acknowledged_at is not None:
                result.commands.append((cmd, f"not applied: acknowledged already by {inc.acknowledged_by}"))
                return
            inc.acknowledge(cmd.by, now)
        elif cmd.action == "resolve":
            inc.resolve(cmd.by, now, f"manual: {cmd.note}" if cmd.note else "manual")
        else:
            result.commands.append((cmd, f"not applied: unknown action {cmd.action!r}"))
            return
        result.changed[inc.incident_id] = inc
        result.commands.append((cmd, "applied"))

    def _ingest(self, row: Mapping[str, Any], now: datetime, result: StepResult) -> None:
        try:
            alert = Alert.model_validate({k: (naive_utc(v) if isinstance(v, datetime) else v) for k, v in row.items()
                                          if k in Alert.model_fields and v is not None})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            result.quarantined.append((dict(row), f"alert {row.get('alert_id')!r} does not fit the record: {problems}"))
            return
        labels = routing_labels(alert)
        inc = self.open_incident(alert.fingerprint)
        routes = self.routes.match(labels)
        if inc is None:
            inc = Incident.open(alert, labels, now, routes[0].resolve_timeout.total_seconds())
            self.incidents[inc.incident_id] = inc
        elif not inc.observe(alert, labels, now):
            return
        for route in routes:
            key = route.group_key(labels)
            group = self.groups.get(key)
            if group is None:
                group_labels = {k: labels.get(k) or "" for k in route.group_by if k != "..."}
                group = self.groups[key] = Group.create(key, route, group_labels, inc.incident_id, now)
            group.add(inc.incident_id)
            inc.routes = sorted(set(inc.routes) | {route.id})
            inc.group_keys = sorted(set(inc.group_keys) | {key})
            inc.receivers = sorted(set(inc.receivers) | {route.receiver})
        result.changed[inc.incident_id] = inc

    def _auto_resolve(self, now: datetime, result: StepResult) -> None:
        for inc in self.incidents.values():
            if inc.active and (now - inc.last_alert_at).total_seconds() >= inc.resolve_timeout_s:
                quiet = int(inc.resolve_timeout_s)
                inc.resolve(AUTO, now, f"auto: no alert for {quiet}s")
                result.changed[inc.incident_id] = inc

    def _mute(self, now: datetime, result: StepResult) -> None:
        silencer = Silencer(self.silences)
        inhibitor = Inhibitor(self.routes.inhibit_rules, [i for i in self.incidents.values() if i.firing])
        for inc in self.incidents.values():
            if not inc.active:
                continue
            by = silencer.mutes(inc.labels, now) or inhibitor.mutes(inc.labels, now, fingerprint=inc.fingerprint)
            if inc.mute(by, now):
                result.changed[inc.incident_id] = inc

    def _flush(self, now: datetime, result: StepResult) -> None:
        for key in sorted(self.groups, key=lambda k: self.groups[k].next_flush_at):
            group = self.groups[key]
            if not group.due(now):
                continue
            route = self.routes.routes_by_id.get(group.route_id)
            if route is None:  # the route was removed from routes.yaml: the group ends quietly
                del self.groups[key]
                continue
            reason, shown = group.flush(route, self.incidents.get, now)
            if reason:
                receiver = self.routes.receivers[group.receiver]
                summaries = [notified(i) for i in shown]
                for integration, config in receiver.integrations().items():
                    if reason == "resolved" and not config.send_resolved:
                        continue
                    result.notifications.append(Notification(
                        idempotency_key=idempotency_key(key, group.episode, integration, group.seq), group_key=key,
                        group_hash=group_hash(key), episode=group.episode, route_id=group.route_id, receiver=group.receiver,
                        integration=integration, integration_type=integration.split("/", 1)[1], seq=group.seq,
                        reason=reason, created_at=now, group_labels=group.labels, incidents=summaries))
            if group.empty:
                del self.groups[key]

    def _refs(self, d: Delivered, result: StepResult) -> None:
        prefixed = {f"{d.integration}.{k}": v for k, v in d.refs.items()}
        for iid in d.incident_ids:
            inc = self.incidents.get(iid)
            if inc is None:
                result.unknown_refs.append(Delivered(d.integration, (iid,), prefixed, d.delivered_at))
                continue
            before = (dict(inc.external_refs), inc.first_notified_at)
            inc.add_refs(prefixed, d.delivered_at)
            if (inc.external_refs, inc.first_notified_at) != before:
                result.changed[iid] = inc

    def _forget_finished(self) -> None:
        """Resolved incidents leave the state once no group still has to report them."""
        referenced = {iid for g in self.groups.values() for iid in g.members}
        for iid in [i for i, inc in self.incidents.items() if not inc.active and i not in referenced]:
            del self.incidents[iid]
