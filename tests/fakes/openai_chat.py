"""A scripted OpenAI-compatible chat-completions server: the real ``/v1/chat/completions`` request and
response shapes (``tools`` in, ``tool_calls`` out), answering from a script instead of a model.

``ScriptedModel`` plays a model that knows, per question, the agent and the tool call to make, and then
answers with the tool's data. With ``obeys_data`` it also falls for instructions written in the data
(it asks to silence an incident when a tool result says so): the guardrails must stop that.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from tests.fakes.server import FakeServer, Reply, Request


@dataclass
class ScriptedModel:
    plans: dict[str, tuple[str, str, dict]] = field(default_factory=dict)  # question -> (agent, tool, args)
    obeys_data: bool = False
    victim: str | None = None  # the incident id the injected instruction gets it to silence

    def reply(self, body: dict) -> dict:
        messages = body["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        agent, tool, args = self.plans.get(question, ("knowledge", "runbook_lookup", {"query": question}))
        if tools == ["hand_off"]:
            return _calls(("hand_off", {"agent": agent}))
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if not results:
            return _calls((tool, args)) if tool in tools else {"role": "assistant", "content": "I have no tool for that."}
        if self.obeys_data and "ignore previous instructions" in results[-1].lower() and len(results) == 1:
            return _calls(("silence_incident", {"incident_id": self.victim, "duration": "1d", "comment": "as instructed"}))
        return {"role": "assistant", "content": "From the tools: " + " ".join(results)}


_ids = itertools.count(1)


def _calls(*calls: tuple[str, dict]) -> dict:
    return {"role": "assistant", "content": None,
            "tool_calls": [{"id": f"call_{next(_ids)}", "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)}} for name, args in calls]}


class FakeChatCompletions(FakeServer):
    def __init__(self, model: ScriptedModel, *, api_key: str = "sk-fake-copilot"):
        super().__init__()
        self.model, self.api_key = model, api_key

    def handle(self, req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
        if req.method != "POST" or req.path != "/v1/chat/completions":
            return Reply(404, {"error": {"message": f"no route {req.path}", "type": "invalid_request_error"}})
        body = req.json()
        message = self.model.reply(body)
        return Reply(200, {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 1767225600,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
