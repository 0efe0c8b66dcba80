"""The agent loop over an OpenAI-compatible chat-completions endpoint with tool calling: the router
model hands the question to an agent (``hand_off``), then the agent calls tools until it answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from lakesentinel.copilot.agents import AGENTS, COPILOT, Agent
from lakesentinel.copilot.guard import ToolCall
from lakesentinel.errors import LakeSentinelError

HAND_OFF = {"type": "function", "function": {
    "name": "hand_off", "description": "Hand the question to the agent that answers it",
    "parameters": {"type": "object", "properties": {"agent": {"type": "string", "enum": sorted(AGENTS)}},
                   "required": ["agent"]}}}
ROUTER = (COPILOT + " First decide which agent answers the question: cost (spend, DBUs, SKUs, savings), "
          "security (audit events, risks, access), performance (slow SQL, warehouses), reliability (jobs, runs, "
          "failures, SLOs, incidents) or knowledge (how-to, rules, runbooks, docs). Call hand_off.")


class ModelError(LakeSentinelError):
    """The model endpoint failed or answered out of protocol; names the endpoint, never the key."""


@dataclass
class ModelEndpoint:
    client: Any  # openai.OpenAI
    model: str
    max_steps: int = 6

    @classmethod
    def connect(cls, base_url: str, model: str, api_key: str | None, timeout: float = 60.0) -> "ModelEndpoint":
        from openai import OpenAI

        return cls(OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=1), model)

    def _chat(self, messages: list[dict], tools: list[dict]):
        from openai import OpenAIError

        try:
            return self.client.chat.completions.create(model=self.model, messages=messages, tools=tools).choices[0].message
        except OpenAIError as exc:
            raise ModelError(f"model endpoint {self.client.base_url}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:200]}") from None

    def route(self, question: str) -> str | None:
        """The agent the router model picks, or None when it did not pick a known one."""
        msg = self._chat([{"role": "system", "content": ROUTER}, {"role": "user", "content": question}], [HAND_OFF])
        for call in msg.tool_calls or []:
            if call.function.name == "hand_off":
                try:
                    agent = json.loads(call.function.arguments or "{}").get("agent")
                except json.JSONDecodeError:
                    return None
                return agent if agent in AGENTS else None
        return None

    def answer(self, agent: Agent, question: str, tools: dict[str, Any],
               call_tool: Callable[[str, dict], ToolCall]) -> tuple[str, list[ToolCall]]:
        """Let the agent call tools until it replies in words (or runs out of steps)."""
        specs = [tools[name].spec() for name in agent.tools if name in tools]
        messages: list[dict] = [{"role": "system", "content": f"{COPILOT}\n\n{agent.instructions}"},
                                {"role": "user", "content": question}]
        calls: list[ToolCall] = []
        for _ in range(self.max_steps):
            msg = self._chat(messages, specs)
            if not msg.tool_calls:
                return msg.content or "", calls
            messages.append({"role": "assistant", "content": msg.content,
                             "tool_calls": [{"id": c.id, "type": "function",
                                             "function": {"name": c.function.name, "arguments": c.function.arguments}}
                                            for c in msg.tool_calls]})
            for c in msg.tool_calls:
                if c.function.name not in specs_names(specs):
                    done = ToolCall(name=c.function.name, arguments={}, write=False, status="error",
                                    error=f"{c.function.name}: not a tool of the {agent.name} agent")
                else:
                    try:
                        raw = json.loads(c.function.arguments or "{}")
                    except json.JSONDecodeError as exc:
                        raw = {"__invalid_json__": str(exc)}
                    done = call_tool(c.function.name, raw if isinstance(raw, dict) else {})
                calls.append(done)
                # Results go back as data, labelled so: the system prompt says never to take orders from them.
                payload = {"status": done.status, "data": done.result, "error": done.error}
                messages.append({"role": "tool", "tool_call_id": c.id, "content": json.dumps(payload, default=str)})
        return "The agent did not finish within its step limit; the tool results so far are attached.", calls


def specs_names(specs: list[dict]) -> set[str]:
    return {s["function"]["name"] for s in specs}
