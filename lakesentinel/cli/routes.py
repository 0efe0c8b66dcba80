"""``lakesentinel routes check|test``: validate routes.yaml and see where an incident would go."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.tree import Tree

from lakesentinel.cli.common import console, emit_json, settings

app = typer.Typer(help="The routing tree of config/routes.yaml.", no_args_is_help=True)


def _load(file: Optional[str]):
    from lakesentinel.alerts.routes import load_routes

    return load_routes(file or settings().paths.resolve("routes"))


@app.command("check")
def check(
    file: Annotated[Optional[str], typer.Option(help="Routes file (default: paths.routes).")] = None,
    secrets: Annotated[bool, typer.Option("--secrets", help="Also read every secret the receivers need "
                                          "(environment or Databricks secret scope); exit 1 if one is missing.")] = False,
) -> None:
    """Load and check the routes file; print the tree with what each route inherits."""
    from lakesentinel.durations import format_duration

    routes = _load(file)

    def label(r) -> str:
        timers = "/".join(format_duration(int(t.total_seconds() * 1e6)) for t in
                          (r.group_wait, r.group_interval, r.repeat_interval, r.resolve_timeout))
        cont = " [dim](continue)[/]" if r.continue_ else ""
        return (f"[bold]{escape(r.id)}[/] " + escape(f"{r.matchers} -> {r.receiver}") + f"{cont}  "
                + escape(f"group_by={list(r.group_by)}") + f"  [dim]wait/interval/repeat/resolve {timers}[/]")

    def grow(node, route) -> None:
        for child in route.routes:
            grow(node.add(label(child)), child)

    tree = Tree(label(routes.root))
    grow(tree, routes.root)
    console.print(tree)
    console.print(f"{routes.file}: {len(routes.routes_by_id)} route(s), {len(routes.receivers)} receiver(s), "
                  f"{len(routes.integrations())} integration(s), {len(routes.inhibit_rules)} inhibit rule(s), "
                  f"{len(routes.silences)} declared silence(s): OK")
    if secrets:
        from lakesentinel.actions.registry import Wiring, build_available

        built, problems = build_available(routes, Wiring())
        for integration, why in problems.items():
            console.print(f"[red]{escape(integration)}[/]: {escape(why)}")
        console.print(f"secrets: {len(built)} integration(s) ready, {len(problems)} cannot be built")
        if problems:
            raise typer.Exit(1)


@app.command("test")
def test(
    labels: Annotated[list[str], typer.Argument(help="Labels of an incident, e.g. domain=security severity=critical.")],
    file: Annotated[Optional[str], typer.Option(help="Routes file (default: paths.routes).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON line on stdout.")] = False,
) -> None:
    """Which routes, receivers and groups an incident with these labels goes to."""
    from lakesentinel.errors import LakeSentinelError

    routes = _load(file)
    parsed = {}
    for item in labels:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise LakeSentinelError(f"not a label: {item!r} (expected name=value)")
        parsed[name.strip()] = value.strip()
    hits = routes.match(parsed)
    result = [{"route": r.id, "receiver": r.receiver, "integrations": sorted(routes.receivers[r.receiver].integrations()),
               "group_key": r.group_key(parsed)} for r in hits]
    for r in result:
        console.print(escape(f"{r['route']} -> ") + f"[bold]{escape(r['receiver'])}[/] "
                      + escape(f"({', '.join(r['integrations'])})  group {r['group_key']}"))
    if as_json:
        emit_json({"labels": parsed, "routes": result})


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="routes")
