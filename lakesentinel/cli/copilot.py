"""``lakesentinel ask "..."`` and ``lakesentinel copilot evaluate``: the Platform Health Copilot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from lakesentinel.cli.common import console, context, emit_json

app = typer.Typer(help="The Platform Health Copilot: evaluation over the lakehouse.", no_args_is_help=True)

ModelUrl = Annotated[Optional[str], typer.Option(
    "--model-url", envvar="LAKESENTINEL_COPILOT_URL",
    help="OpenAI-compatible chat-completions base URL (e.g. https://<host>/serving-endpoints); none: the "
         "deterministic intent router. The key comes from $LAKESENTINEL_COPILOT_API_KEY.")]
ModelName = Annotated[str, typer.Option("--model", envvar="LAKESENTINEL_COPILOT_MODEL",
                                        help="Model (serving endpoint) name.")]
Workspaces = Annotated[Optional[list[str]], typer.Option(
    "--workspace", "-w", help="Workspaces you may see (repeat; default: every workspace in gold).")]


def _docs_dir() -> Path | None:
    """The project's docs/ beside the package in a source checkout (a wheel carries none)."""
    here = Path(__file__).resolve().parents[2] / "docs"
    return here if here.is_dir() else None


def build(workspaces: list[str] | None, model_url: str | None, model: str, approve: bool):
    """The copilot over the configured lakehouse, as this user, in this scope."""
    from lakesentinel.alerts.commands import operator
    from lakesentinel.app.spark_queries import SparkQueryLayer
    from lakesentinel.clock import utcnow
    from lakesentinel.copilot.answer import Copilot
    from lakesentinel.copilot.guard import Approval
    from lakesentinel.copilot.knowledge import build_knowledge
    from lakesentinel.copilot.model import ModelEndpoint
    from lakesentinel.copilot.scope import Scope
    from lakesentinel.copilot.tools import ToolEnv
    from lakesentinel.errors import LakeSentinelError

    ctx = context()
    layer = SparkQueryLayer(ctx.spark, ctx.cfg, ctx.ops_tables)
    if not workspaces:
        if not layer.exists("gold", "fact_cost_daily"):
            raise LakeSentinelError("gold is empty: run `lakesentinel gold build` first (or give --workspace)")
        workspaces = sorted({r["workspace_id"] for r in layer.rows(
            "workspaces", "SELECT DISTINCT workspace_id FROM {gold}.fact_cost_daily WHERE workspace_id IS NOT NULL")})
    try:
        receivers, _ = ctx.receivers()
    except LakeSentinelError:
        receivers = {}
    user = operator()
    knowledge = build_knowledge(ctx.cfg.paths.resolve("rules"), _docs_dir())
    env = ToolEnv(layer=layer, now=utcnow, user=user, receivers=receivers, knowledge=knowledge)
    endpoint = (ModelEndpoint.connect(model_url, model, os.environ.get("LAKESENTINEL_COPILOT_API_KEY"))
                if model_url else None)
    return Copilot(env, Scope(tuple(workspaces)), Approval(user) if approve else None, endpoint)


def ask(
    question: Annotated[str, typer.Argument(help="The question, in words.")],
    workspaces: Workspaces = None,
    approve: Annotated[bool, typer.Option("--approve", help="Allow the write the question asks for (silence, Jira).")] = False,
    model_url: ModelUrl = None,
    model: ModelName = "databricks-meta-llama-3-3-70b-instruct",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON line on stdout.")] = False,
) -> None:
    """Ask the Platform Health Copilot a question about the platform."""
    answer = build(workspaces, model_url, model, approve).ask(question)
    console.print(f"[bold]{answer.agent}[/] agent" + (f" ({escape(answer.model)})" if answer.model else ""))
    console.print(answer.answer, markup=False, highlight=False)
    for call in answer.tool_calls:
        console.print(f"  tool {call.name} {call.status}" + (f": {escape(call.error)}" if call.error else ""),
                      style="dim")
    if answer.note:
        console.print(answer.note, style="yellow")
    if as_json:
        emit_json(answer.model_dump(mode="json"))


@app.command("evaluate")
def evaluate(
    workspaces: Workspaces = None,
    model_url: ModelUrl = None,
    model: ModelName = "databricks-meta-llama-3-3-70b-instruct",
    details: Annotated[Optional[Path], typer.Option(help="Write every question, answer and verdict to this JSON file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line: router_accuracy, tool_accuracy, "
                                                         "answer_accuracy, unapproved_writes.")] = False,
) -> None:
    """Ask about 40 questions generated over the lakehouse (expected answers from gold) and score them."""
    from lakesentinel.copilot.evaluate import questions, score

    copilot = build(workspaces, model_url, model, approve=False)
    qs = questions(copilot.env.layer, list(copilot.scope.workspaces), copilot.env.knowledge)
    report = score(qs, copilot.ask)
    summary = report.summary() | {"mode": copilot.endpoint.model if copilot.endpoint else "deterministic"}
    if details:
        details.write_text(json.dumps([{"question": s.question.text, "expected_agent": s.question.agent,
                                        "expected_tool": s.question.tool, "expected": s.question.value,
                                        "agent": s.answer.agent, "tools": [c.name for c in s.answer.tool_calls],
                                        "answer": s.answer.answer, "route_ok": s.route_ok, "tool_ok": s.tool_ok,
                                        "answer_ok": s.answer_ok} for s in report.scored], indent=1, default=str))
    for s in report.scored:
        if not (s.route_ok and s.tool_ok and s.answer_ok):
            console.print(f"[red]miss[/] {escape(s.question.text)} -> {s.answer.agent}/"
                          f"{','.join(c.name for c in s.answer.tool_calls)} (expected {s.question.agent}/"
                          f"{s.question.tool} {escape(str(s.question.value))})")
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    if as_json:
        emit_json(summary)


def register(root: typer.Typer) -> None:
    root.command("ask")(ask)
    root.add_typer(app, name="copilot")
