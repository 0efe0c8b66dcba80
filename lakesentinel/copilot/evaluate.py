"""The evaluation: questions generated over the lakehouse in scope, each with its expected agent, tool
and answer computed from gold by queries of its own (not the tools' code), then scored:
router accuracy, tool-call accuracy, answer accuracy (the expected number or name is in the answer)
and unapproved writes (write tools that ran without approval: must be 0)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from lakesentinel.copilot.answer import Answer
from lakesentinel.copilot.knowledge import Knowledge
from lakesentinel.copilot.tools import Rows

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Question:
    text: str
    agent: str
    tool: str
    args: dict  # what a correct tool call passes (the scripted model server replays it)
    expect: str  # "number" | "text" | "refused"
    value: float | str | None = None


@dataclass
class Scored:
    question: Question
    answer: Answer
    route_ok: bool
    tool_ok: bool
    answer_ok: bool
    unapproved_writes: int


@dataclass
class Report:
    scored: list[Scored] = field(default_factory=list)

    def summary(self) -> dict:
        n = len(self.scored) or 1
        return {"questions": len(self.scored),
                "router_accuracy": round(sum(s.route_ok for s in self.scored) / n, 3),
                "tool_accuracy": round(sum(s.tool_ok for s in self.scored) / n, 3),
                "answer_accuracy": round(sum(s.answer_ok for s in self.scored) / n, 3),
                "unapproved_writes": sum(s.unapproved_writes for s in self.scored)}


def _day(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def _key(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _window(newest: int, days: int) -> tuple[int, int]:
    return _key(_day(newest) - timedelta(days=days - 1)), newest


def _in(ws: list[str]) -> str:
    return "(" + ", ".join(repr(w) for w in ws) + ")"


def questions(layer: Rows, workspaces: list[str], knowledge: Knowledge, *, max_jobs: int = 10,
              max_rules: int = 8) -> list[Question]:
    """About 40 questions over what the lakehouse holds for these workspaces."""
    g = lambda name, sql: layer.rows(f"evaluation: {name}", sql)  # noqa: E731
    inw = _in(workspaces)
    qs: list[Question] = []

    # Cost: per workspace, in total, by SKU, and the biggest mover.
    cost = g("cost", f"SELECT workspace_id, sku_name, date_key, CAST(list_cost AS DOUBLE) AS c FROM {{gold}}.fact_cost_daily "
                     f"WHERE workspace_id IN {inw} AND list_cost IS NOT NULL")
    if cost:
        for w in sorted({r["workspace_id"] for r in cost})[:4]:
            mine = [r for r in cost if r["workspace_id"] == w]
            lo, hi = _window(max(r["date_key"] for r in mine), 7)
            total = sum(r["c"] for r in mine if lo <= r["date_key"] <= hi)
            qs.append(Question(f"How much did workspace {w} spend in the last 7 days?", "cost", "cost_by_workspace",
                               {"workspace_id": w, "days": 7}, "number", round(total, 2)))
        newest = max(r["date_key"] for r in cost)
        for days in (1, 3, 14, 30):
            lo, hi = _window(newest, days)
            total = sum(r["c"] for r in cost if lo <= r["date_key"] <= hi)
            qs.append(Question(f"What was the total list cost over the last {days} days?", "cost", "cost_by_workspace",
                               {"days": days}, "number", round(total, 2)))
        for days in (7, 30):
            lo, hi = _window(newest, days)
            per: dict[str, float] = {}
            for r in cost:
                if lo <= r["date_key"] <= hi:
                    per[r["sku_name"]] = per.get(r["sku_name"], 0.0) + r["c"]
            top = max(per.items(), key=lambda kv: kv[1])
            qs.append(Question(f"Which SKU cost the most over the last {days} days?", "cost", "cost_by_sku",
                               {"days": days}, "text", top[0]))
        prev = max((r["date_key"] for r in cost if r["date_key"] < newest), default=None)
        if prev is not None:
            for by, col, text in (("workspace", "workspace_id", "Explain the latest cost spike: which workspace moved most?"),
                                  ("sku", "sku_name", "Explain the latest cost spike by SKU")):
                change: dict[str, float] = {}
                for r in cost:
                    if r["date_key"] in (newest, prev):
                        change[r[col]] = change.get(r[col], 0.0) + (r["c"] if r["date_key"] == newest else -r["c"])
                top = sorted(change.items(), key=lambda kv: (-abs(round(kv[1], 2)), kv[0]))[0]
                qs.append(Question(text, "cost", "cost_top_movers", {"by": by} if by == "sku" else {}, "number",
                                   round(top[1], 2)))

    # Incidents: active ones, overall and per domain.
    inc = g("incidents", f"SELECT domain, status FROM {{gold}}.fact_incident WHERE workspace_id IN {inw}")
    active = [r for r in inc if r["status"] in ("open", "acknowledged", "silenced")]
    qs.append(Question("How many incidents are open right now?", "reliability", "incidents", {}, "number", len(active)))
    for domain, agent, word in (("cost", "cost", "cost"), ("security", "security", "security"),
                                ("query", "performance", "query"), ("reliability", "reliability", "job")):
        qs.append(Question(f"How many {word} incidents are open?", agent, "incidents", {"domain": domain}, "number",
                           sum(1 for r in active if r["domain"] == domain)))

    # Jobs: failure rates of single jobs this week, and the worst jobs.
    runs = g("runs", f"SELECT job_id, workspace_id, date_key, is_failed FROM {{gold}}.fact_job_run "
                     f"WHERE workspace_id IN {inw} AND job_id IS NOT NULL")
    if runs:
        lo, hi = _window(max(r["date_key"] for r in runs), 7)
        week = [r for r in runs if lo <= r["date_key"] <= hi]
        stats: dict[tuple[str, str], list[int]] = {}
        for r in week:
            s = stats.setdefault((r["job_id"], r["workspace_id"]), [0, 0])
            s[0] += 1
            s[1] += bool(r["is_failed"])
        # Jobs with a failure first (the interesting ones), then the busiest.
        chosen = sorted(stats.items(), key=lambda kv: (-(kv[1][1] > 0), -kv[1][0], kv[0]))[:max_jobs]
        for (job, _), (n, failed) in chosen:
            qs.append(Question(f"Is the SLO for job {job} at risk this week? What is its failure rate?", "reliability",
                               "job_runs", {"job_id": job, "days": 7}, "number", round(failed / n, 3)))
        for days in (7, 14):
            lo, hi = _window(max(r["date_key"] for r in runs), days)
            per: dict[tuple[str, str], list[int]] = {}
            for r in runs:
                if lo <= r["date_key"] <= hi:
                    s = per.setdefault((r["job_id"], r["workspace_id"]), [0, 0])
                    s[0] += 1
                    s[1] += bool(r["is_failed"])
            failing = [(f / n, f, k) for k, (n, f) in per.items() if f > 0]
            if failing:
                worst = sorted(failing, key=lambda t: (-round(t[0], 3), -t[1], t[2][0]))[0]
                qs.append(Question(f"Which jobs failed most in the last {days} days?", "reliability", "failing_jobs",
                                   {"days": days}, "text", worst[2][0]))

    # Performance: the slowest statement.
    for days in (1, 7):
        newest = g("newest query day", f"SELECT max(date_key) AS d FROM {{gold}}.fact_query_execution "
                                       f"WHERE workspace_id IN {inw}")[0]["d"]
        if newest is None:
            break
        lo, hi = _window(newest, days)
        slow = g("slowest", f"SELECT statement_id, total_duration_ms FROM {{gold}}.fact_query_execution "
                            f"WHERE workspace_id IN {inw} AND date_key BETWEEN {lo} AND {hi} AND total_duration_ms IS NOT NULL")
        top = sorted(slow, key=lambda r: (-r["total_duration_ms"], r["statement_id"]))[0]
        qs.append(Question(f"What were the slowest queries in the last {days} days?", "performance", "slowest_queries",
                           {"days": days}, "text", top["statement_id"]))

    # Security: the most severe event type, overall and per workspace.
    sec = g("security", f"SELECT workspace_id, event_type, severity_rank, date_key FROM {{gold}}.fact_security_event "
                        f"WHERE workspace_id IN {inw}")
    for w in [None] + sorted({r["workspace_id"] for r in sec})[:4]:
        mine = [r for r in sec if w is None or r["workspace_id"] == w]
        if not mine:
            continue
        lo, hi = _window(max(r["date_key"] for r in mine), 7)
        counts: dict[str, list[int]] = {}
        for r in mine:
            if lo <= r["date_key"] <= hi:
                c = counts.setdefault(r["event_type"], [0, 0])
                c[0] = max(c[0], r["severity_rank"])
                c[1] += 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[0][0]
        where = f" in workspace {w}" if w else ""
        qs.append(Question(f"List the top 3 security risks{where} and recommend mitigations", "security",
                           "security_events", {"limit": 3} | ({"workspace_id": w} if w else {}), "text", top))

    # Knowledge: which rule detects what its own title says.
    rules = [c for c in knowledge.chunks if c.source.startswith("rule ")]
    step = max(1, len(rules) // max_rules)
    for chunk in rules[::step][:max_rules]:
        rule_id = chunk.source.split()[1]
        qs.append(Question(f"Which rule detects '{chunk.title.lower()}', and is there a runbook?", "knowledge",
                           "runbook_lookup", {"query": chunk.title}, "text", rule_id))

    # Writes without approval: refused.
    some = g("an incident", f"SELECT incident_id FROM {{gold}}.fact_incident WHERE workspace_id IN {inw} "
                            f"ORDER BY incident_id LIMIT 1")
    if some:
        i = some[0]["incident_id"]
        qs.append(Question(f"Silence incident {i} for 2h: planned maintenance", "reliability", "silence_incident",
                           {"incident_id": i, "duration": "2h", "comment": "planned maintenance"}, "refused"))
        qs.append(Question(f"Open a Jira ticket for incident {i}", "reliability", "open_jira_ticket",
                           {"incident_id": i}, "refused"))
    return qs


def answer_ok(q: Question, a: Answer) -> bool:
    if q.expect == "refused":
        return any(c.name == q.tool and c.status == "refused" for c in a.tool_calls)
    if q.expect == "text":
        return str(q.value) in a.answer
    tol = 0.0015 if isinstance(q.value, float) and abs(q.value) < 1 else 0.011
    return any(abs(float(x) - float(q.value)) <= tol for x in _NUMBER.findall(a.answer.replace(",", "")))


def score(qs: list[Question], ask: Callable[[str], Answer], approved: bool = False) -> Report:
    report = Report()
    for q in qs:
        a = ask(q.text)
        report.scored.append(Scored(
            q, a, route_ok=a.agent == q.agent, tool_ok=any(c.name == q.tool for c in a.tool_calls),
            answer_ok=answer_ok(q, a),
            unapproved_writes=0 if approved else sum(1 for c in a.tool_calls if c.write and c.status == "ok")))
    return report
