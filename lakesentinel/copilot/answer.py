"""Answering one question: route it, run the agent's tool calls under the guardrails, reply in words.

With a model endpoint the model routes and calls tools; without one the deterministic intent router
does, and the answer says that no model is configured."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from lakesentinel.copilot.agents import AGENTS
from lakesentinel.copilot.guard import Approval, ToolCall, run_tool
from lakesentinel.copilot.model import ModelEndpoint
from lakesentinel.copilot.router import plan
from lakesentinel.copilot.scope import Scope
from lakesentinel.copilot.catalog import catalog
from lakesentinel.copilot.tools import Tool, ToolEnv

NO_MODEL = "No model endpoint is configured: answered by the deterministic intent router."


class Answer(BaseModel):
    question: str
    agent: str
    model: str | None
    answer: str
    tool_calls: list[ToolCall]
    note: str | None = None


@dataclass
class Copilot:
    env: ToolEnv
    scope: Scope
    approval: Approval | None = None
    endpoint: ModelEndpoint | None = None

    def __post_init__(self):
        self.tools: dict[str, Tool] = catalog()

    def _call(self, question: str):
        def call(name: str, raw: dict) -> ToolCall:
            return run_tool(self.tools[name], raw, self.env, self.scope, question, self.approval)
        return call

    def ask(self, question: str) -> Answer:
        call = self._call(question)
        if self.endpoint is None:
            p = plan(question)
            calls = [call(name, args) for name, args in p.calls]
            return Answer(question=question, agent=p.agent, model=None, answer=render(calls), tool_calls=calls,
                          note=NO_MODEL)
        agent = self.endpoint.route(question) or plan(question).agent
        text, calls = self.endpoint.answer(AGENTS[agent], question, self.tools, call)
        return Answer(question=question, agent=agent, model=self.endpoint.model, answer=text, tool_calls=calls)


def _money(x: float) -> str:
    return f"{x:.2f}"


def render(calls: list[ToolCall]) -> str:
    """The tool results in a few sentences (the deterministic router's answer)."""
    return "\n".join(_one(c) for c in calls) or "No tool answers this question."


def _one(c: ToolCall) -> str:
    if c.status != "ok":
        return f"{c.name} {c.status}: {c.error}"
    r = c.result or {}
    if c.name in ("cost_by_workspace", "cost_by_sku"):
        if r["from_date_key"] is None:
            return "No cost in gold for your scope."
        parts = ", ".join(f"{x['key']} {_money(x['list_cost'])}" for x in r["rows"][:10])
        return (f"List cost {r['from_date_key']}..{r['to_date_key']}: total {_money(r['total_list_cost'])}"
                f" ({parts}).")
    if c.name == "cost_top_movers":
        if not r["movers"]:
            return "No cost in gold for your scope."
        parts = "; ".join(f"{m['key']} {_money(m['previous_list_cost'])} -> {_money(m['list_cost'])} "
                          f"({m['change']:+.2f})" for m in r["movers"])
        return f"Biggest changes on {r['date_key']} against {r['previous_date_key']}: {parts}."
    if c.name == "incidents":
        by = ", ".join(f"{k} {v}" for k, v in r["by_domain"].items()) or "none"
        lines = "".join(f"\n- {i['incident_id']} [{i['severity']}, {i['status']}] {i['title']}" for i in r["incidents"][:10])
        return f"{r['count']} incident(s) ({by}).{lines}"
    if c.name == "job_runs":
        rate = f"{r['failure_rate']:.3f}" if r["failure_rate"] is not None else "n/a"
        return (f"Job {r['job_id']} ({r['job_name'] or 'unnamed'}): {r['runs']} runs, {r['failed_runs']} failed, "
                f"failure rate {rate}; last: " + ", ".join(f"{x['result_state']}" for x in r["recent_runs"][:5]) + ".")
    if c.name == "failing_jobs":
        if not r["jobs"]:
            return "No failed job runs in that period."
        return "Jobs by failure rate: " + "; ".join(
            f"{j['job_id']} ({j['job_name'] or 'unnamed'}) {j['failed_runs']}/{j['runs']} failed, rate {j['failure_rate']:.3f}"
            for j in r["jobs"]) + "."
    if c.name == "slowest_queries":
        return "Slowest statements: " + "; ".join(
            f"{q['statement_id']} on {q['warehouse_id'] or 'a cluster'} {q['total_duration_ms'] / 1000:.1f} s"
            for q in r["queries"]) + "." if r["queries"] else "No statements in that period."
    if c.name == "security_events":
        return "Security events, most severe first: " + "; ".join(
            f"{e['event_type']} ({e['severity']}) {e['events']} events, {e['failures']} failures, {e['principals']} principals"
            for e in r["events"]) + "." if r["events"] else "No security events in that period."
    if c.name == "runbook_lookup":
        if not r["passages"]:
            return f"Nothing found ({r['method']})."
        return f"Found ({r['method']}):" + "".join(
            f"\n- {p['source']}: {p['title']}" + (f" (runbook {p['runbook_url']})" if p["runbook_url"] else "")
            for p in r["passages"])
    if c.name == "silence_incident":
        return f"Silenced with {r['silence_id']} ({', '.join(r['matchers'])}) until {r['ends_at']}."
    if c.name == "open_jira_ticket":
        return f"Jira ({r['integration']}): {r['status']}, issue {r['key']}."
    return f"{c.name}: {r}"
