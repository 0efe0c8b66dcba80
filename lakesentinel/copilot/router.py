"""The deterministic intent router: keywords and patterns pick the agent and the tool calls, so
tool-level questions work without a model endpoint (and the evaluation has a baseline)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORKSPACE = re.compile(r"\bworkspace\s+(?:id\s+)?([0-9][A-Za-z0-9_.-]*)", re.I)
_JOB = re.compile(r"\bjob\s+(?:id\s+)?([0-9][A-Za-z0-9_.-]*)", re.I)
_INCIDENT = re.compile(r"\bincident\s+([A-Za-z0-9_.-]{6,})", re.I)
_DAYS = re.compile(r"\b(?:last|past)\s+(\d{1,2})\s+days?\b", re.I)
_TOP = re.compile(r"\btop\s+(\d{1,2})\b", re.I)
_DATE = re.compile(r"\b(20\d{2})-?(\d{2})-?(\d{2})\b")


@dataclass(frozen=True)
class Plan:
    agent: str
    calls: tuple[tuple[str, dict], ...]


def _has(q: str, *words: str) -> bool:
    return any(re.search(rf"\b{w}", q) for w in words)


def _days(q: str) -> int | None:
    m = _DAYS.search(q)
    if m:
        return max(1, min(90, int(m.group(1))))
    if _has(q, "this week", "past week", "last week"):
        return 7
    if _has(q, "today", "yesterday"):
        return 1
    return None


def _domain(q: str) -> str | None:
    for domain, words in (("security", ("security", "login", "token", "secret")), ("cost", ("cost", "spend")),
                          ("query", ("query", "queries", "warehouse")), ("reliability", ("job", "reliab", "run"))):
        if _has(q, *words):
            return domain
    return None


def plan(question: str) -> Plan:
    """The agent and the tool calls for a question, from its words alone."""
    q = question.lower()
    ws = _WORKSPACE.search(question)
    job = _JOB.search(question)
    inc = _INCIDENT.search(question)
    days = _days(q)
    top = _TOP.search(q)
    common = {"days": days} if days else {}
    limit = {"limit": int(top.group(1))} if top else {}
    wsarg = {"workspace_id": ws.group(1)} if ws else {}

    if inc and _has(q, "silence", "mute", "snooze"):
        return Plan("reliability", (("silence_incident", {"incident_id": inc.group(1), "duration": _duration(q),
                                                          "comment": question[:500]}),))
    if inc and _has(q, "jira", "ticket"):
        return Plan("reliability", (("open_jira_ticket", {"incident_id": inc.group(1)}),))
    if _has(q, "runbook", "how do i", "how to", "what does", "what is the rule", "which rule", "docs", "document"):
        return Plan("knowledge", (("runbook_lookup", {"query": question[:300]}),))
    if _has(q, "incident"):
        args = {"domain": _domain(q)} if _domain(q) else {}
        if ws:
            args["workspace_id"] = ws.group(1)
        if _has(q, "all incidents", "every incident"):
            args["status"] = "all"
        agent = {"cost": "cost", "security": "security", "query": "performance"}.get(args.get("domain"), "reliability")
        return Plan(agent, (("incidents", args),))
    if job and _has(q, "job", "slo", "run", "fail"):
        return Plan("reliability", (("job_runs", {"job_id": job.group(1)} | common),))
    if _has(q, "security", "risk", "login", "audit", "token", "secret", "suspicious"):
        return Plan("security", (("security_events", common | limit | wsarg),))
    if _has(q, "slow", "query", "queries", "latency", "performance"):
        return Plan("performance", (("slowest_queries", common | limit | wsarg),))
    if _has(q, "fail", "job", "slo", "reliab", "broken"):
        return Plan("reliability", (("failing_jobs", common | limit | wsarg),))
    if _has(q, "cost", "spend", "spent", "dbu", "bill", "expensive", "saving", "sku"):
        if _has(q, "spike", "mover", "jump", "increase", "changed", "explain", "why"):
            args = {"by": "sku"} if _has(q, "sku") or ws else {}
            args |= wsarg
            date = _DATE.search(q)
            if date:
                args["date_key"] = int("".join(date.groups()))
            return Plan("cost", (("cost_top_movers", args | limit),))
        tool = "cost_by_sku" if _has(q, "sku") else "cost_by_workspace"
        args = common | ({"workspace_id": ws.group(1)} if ws else {})
        return Plan("cost", ((tool, args),))
    return Plan("knowledge", (("runbook_lookup", {"query": question[:300]}),))


def _duration(q: str) -> str:
    m = re.search(r"\b(\d{1,4})\s*([smhd])\b", q) or re.search(r"\bfor\s+(\d{1,4})\s*(h)ours?\b", q)
    return f"{m.group(1)}{m.group(2)}" if m else "2h"
