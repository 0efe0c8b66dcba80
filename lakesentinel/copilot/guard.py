"""The one way a tool runs: arguments validated against its input model, the caller's scope passed
into its query, and a write only when (1) the caller approved writes, (2) the question itself asks for
that action and (3) every id the write targets is written in the question. Text that reached the model
from the data (a job name, a query comment) therefore never triggers a write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from lakesentinel.copilot.scope import Scope
from lakesentinel.copilot.tools import Tool, ToolEnv
from lakesentinel.errors import LakeSentinelError

# What words in the question ask for each write.
WRITE_INTENT: dict[str, re.Pattern] = {
    "silence_incident": re.compile(r"\b(silence|mute|snooze)\b", re.I),
    "open_jira_ticket": re.compile(r"\b(jira|ticket|issue)\b", re.I),
}
TARGET_FIELDS = ("incident_id", "job_id", "workspace_id")


@dataclass(frozen=True)
class Approval:
    """The caller's explicit go-ahead for writes (``--approve``), and who gave it."""

    by: str


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any]
    write: bool
    status: str  # ok | refused | error
    result: dict[str, Any] | None = None
    error: str | None = None


def _refusal(tool: Tool, args: BaseModel, question: str, approval: Approval | None) -> str | None:
    if approval is None:
        return f"{tool.name} is a write: it needs approval (--approve)"
    if not WRITE_INTENT[tool.name].search(question):
        return f"{tool.name}: the question does not ask for this action (writes follow the user's words, not the data)"
    for name in TARGET_FIELDS:
        value = getattr(args, name, None)
        if value is not None and value not in question:
            return f"{tool.name}: {name} {value} is not named in the question"
    return None


def run_tool(tool: Tool, raw: dict, env: ToolEnv, scope: Scope, question: str,
             approval: Approval | None) -> ToolCall:
    """Run one tool call (from the router or a model) under the guardrails; never raises for bad input."""
    try:
        args = tool.input.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
        return ToolCall(name=tool.name, arguments=raw or {}, write=tool.write, status="error",
                        error=f"{tool.name}: {problems}")
    if tool.write:
        reason = _refusal(tool, args, question, approval)
        if reason:
            return ToolCall(name=tool.name, arguments=args.model_dump(), write=True, status="refused", error=reason)
    try:
        out = tool.run(env, scope, args)
    except LakeSentinelError as exc:
        return ToolCall(name=tool.name, arguments=args.model_dump(), write=tool.write, status="error", error=str(exc))
    return ToolCall(name=tool.name, arguments=args.model_dump(), write=tool.write, status="ok",
                    result=out.model_dump(mode="json"))
