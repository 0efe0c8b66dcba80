"""Words and facts shared by the receivers' messages: status lines, incident facts, the ack hint.

>>> status_word("resolved"), severity_badge("critical")
('RESOLVED', ':red_circle: CRITICAL')
"""

from __future__ import annotations

from decimal import Decimal

from lakesentinel.notify.notification import Notification, NotifiedIncident

_BADGES = {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:",
           "low": ":large_blue_circle:", "info": ":white_circle:"}

REASONS = {"firing": "Firing", "update": "Updated", "repeat": "Still firing", "resolved": "Resolved"}


def status_word(status: str) -> str:
    return status.upper()


def severity_badge(severity: str) -> str:
    return f"{_BADGES.get(severity, ':white_circle:')} {severity.upper()}"


def headline(n: Notification) -> str:
    """``[FIRING:2] Runaway cluster (+1 more)`` - what a pager or a subject line shows."""
    count = len(n.firing) if n.status == "firing" else len(n.resolved)
    return f"[{status_word(n.status)}:{count}] {n.title}"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"${value:,.2f}"


def facts(i: NotifiedIncident) -> list[tuple[str, str]]:
    """Label/value pairs an on-call engineer reads first, most useful first, empty ones left out."""
    pairs = [("Severity", i.severity), ("Status", i.status), ("Domain", i.domain), ("Rule", i.rule_id),
             ("Workspace", i.workspace_id or ""),
             ("Entity", f"{i.entity_type}: {i.entity_id}" if i.entity_id else ""),
             ("Observed", f"{_number(i.observed)} (expected {_number(i.expected)})" if i.observed is not None else ""),
             ("Cost impact", money(i.cost_impact) or ""),
             ("Alerts", str(i.alert_count)),
             ("First seen", f"{i.first_seen:%Y-%m-%d %H:%M} UTC"), ("Last seen", f"{i.last_seen:%Y-%m-%d %H:%M} UTC")]
    if i.acknowledged_by:
        pairs.append(("Acknowledged by", i.acknowledged_by))
    if i.resolved_by:
        pairs.append(("Resolved by", i.resolved_by + (f" ({i.resolution})" if i.resolution else "")))
    return [(k, v) for k, v in pairs if v]


def ack_hint(i: NotifiedIncident) -> str:
    return f"lakesentinel incidents ack {i.incident_id}"


def change_line(n: Notification) -> str:
    """One sentence for a thread reply or a comment: what changed since the last notification."""
    firing, resolved = len(n.firing), len(n.resolved)
    if n.reason == "resolved":
        who = next((i.resolved_by for i in n.resolved if i.resolved_by), None)
        return f"Resolved ({resolved} incident(s))" + (f" by {who}" if who else "") + "."
    if n.reason == "repeat":
        return f"Still firing: {firing} incident(s), {sum(i.alert_count for i in n.firing)} alert(s) so far."
    return f"Updated: {firing} firing, {resolved} resolved."
