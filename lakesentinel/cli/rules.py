"""``lakesentinel rules lint|test|backtest|explain|coverage|schema``: the rules engine for the teams that own rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lakesentinel.cli.common import console, emit_json, settings

app = typer.Typer(help="Detection rules (rules/<domain>/*.yaml): lint, test, backtest, explain.", no_args_is_help=True)

PathsOption = Annotated[Optional[list[Path]], typer.Option(
    "--path", "-p", help="Rule files or folders (default: the configured rules folder). Repeatable.")]


def _paths(paths: list[Path] | None) -> list[Path]:
    return list(paths) if paths else [settings().paths.resolve("rules")]


def _load(paths: list[Path] | None):
    from lakesentinel.rules.loader import load_rules

    chosen = _paths(paths)
    return load_rules(chosen, root=Path.cwd())


def _select(loader, rule_ids: list[str] | None):
    from lakesentinel.rules.issues import RuleNotFoundError

    if not rule_ids:
        return list(loader.rules.values())
    unknown = [r for r in rule_ids if r not in loader.rules]
    if unknown:
        failed = {i.id for i in loader.issues if i.severity == "error"}
        why = [f"{r} (has errors; run `rules lint`)" if r in failed else r for r in unknown]
        raise RuleNotFoundError(f"no such rule: {', '.join(why)}")
    return [loader.rules[r] for r in rule_ids]


def _pretty(sql: str, indent: str) -> str:
    """Compiled SQL laid out over lines (sqlglot's pretty printer), indented under its label."""
    import sqlglot

    try:
        text = sqlglot.parse_one(sql, read="spark").sql(dialect="spark", pretty=True)
    except sqlglot.errors.SqlglotError:
        text = sql
    return escape(text.replace("\n", "\n" + indent))


def _print_issues(issues) -> None:
    # One line per issue, never wrapped: editors and grep read file:line:col.
    for issue in issues:
        colour = "red" if issue.severity == "error" else "yellow"
        console.print(f"[{colour}]{escape(str(issue))}[/]", highlight=False, soft_wrap=True)


@app.command("lint")
def lint(
    paths: PathsOption = None,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    analyze: Annotated[bool, typer.Option(help="Have Spark analyse every compiled rule and Java compile every pattern "
                                               "(starts Spark; --no-analyze for a quick check without it).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON report on stdout.")] = False,
) -> None:
    """Check every rule file: YAML, schema, expressions against the source schema. Exit 1 on any error."""
    loader = _load(paths)
    issues = list(loader.issues)
    if analyze and loader.rules:
        from lakesentinel.cli.common import spark
        from lakesentinel.rules.analysis import analyze_rules

        issues += analyze_rules(spark(), list(loader.rules.values()))
    issues += _quarantined(loader)
    _print_issues(issues)
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    checked = "analysed by Spark" if analyze else "not analysed by Spark (--no-analyze)"
    console.print(f"{len(loader.rules)} rule(s) in {len(loader.files)} file(s), {checked}: {errors} error(s), "
                  f"{warnings} warning(s)")
    if as_json:
        emit_json({"rules": len(loader.rules), "files": len(loader.files), "errors": errors, "warnings": warnings,
                   "issues": [i.to_dict() for i in issues]})
    if errors or (strict and warnings):
        raise typer.Exit(1)


def _quarantined(loader) -> list:
    """Rules of these files that the running monitor quarantined (their current version)."""
    from lakesentinel.cli.common import context
    from lakesentinel.rules.quarantine import quarantined_issues

    ctx = context()
    if not ctx.local and not ctx.spark_started:
        return []  # on Databricks the table is read through Spark: only when lint started it anyway
    return quarantined_issues(ctx.ops_tables, loader.rules.values())


@app.command("test")
def test(
    rule_ids: Annotated[Optional[list[str]], typer.Argument(help="Rule ids (default: all).", show_default=False)] = None,
    paths: PathsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON report on stdout.")] = False,
) -> None:
    """Run each rule's own test cases (input rows -> expected alerts); pass/fail per case. Exit 1 on any failure."""
    from lakesentinel.cli.common import spark
    from lakesentinel.rules.testing import run_tests

    from lakesentinel.rules.analysis import analyze_rules

    loader = _load(paths)
    rules = _select(loader, rule_ids)
    # Spark is up anyway: a rule it cannot analyse is reported as such, not as a failing case.
    refused = analyze_rules(spark(), rules)
    errors = [i for i in loader.issues if i.severity == "error"] + refused
    _print_issues(errors)
    rules = [r for r in rules if r.id not in {i.id for i in refused}]
    results = run_tests(spark(), rules)
    for r in results:
        mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
        console.print(f"{mark} {escape(r.rule_id)}: {escape(r.case)}" +
                      ("" if r.passed else f"\n     {escape(r.message)}"), highlight=False, soft_wrap=True)
    untested = [r.id for r in rules if not r.rule.tests]
    failed = sum(1 for r in results if not r.passed)
    console.print(f"{len(results)} case(s) in {len({r.rule_id for r in results})} rule(s): {len(results) - failed} "
                  f"passed, {failed} failed" + (f"; {len(untested)} rule(s) without tests" if untested else ""))
    if as_json:
        emit_json({"cases": len(results), "passed": len(results) - failed, "failed": failed, "untested": untested,
                   "lint_errors": len(errors),
                   "results": [{"rule_id": r.rule_id, "case": r.case, "passed": r.passed, "message": r.message}
                               for r in results]})
    if failed or errors:
        raise typer.Exit(1)


def _when(text: str, name: str) -> datetime:
    from lakesentinel.errors import LakeSentinelError

    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LakeSentinelError(f"--{name}: {text!r} is not a date or time (YYYY-MM-DD or ISO 8601)") from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@app.command("backtest")
def backtest(
    rule_ids: Annotated[Optional[list[str]], typer.Argument(help="Rule ids (default: all).", show_default=False)] = None,
    since: Annotated[Optional[str], typer.Option(help="Start, YYYY-MM-DD or ISO time (default: 30 days before --until).")] = None,
    until: Annotated[Optional[str], typer.Option(help="End, exclusive (default: now, UTC).")] = None,
    chunk_hours: Annotated[int, typer.Option("--chunk-hours", min=1, help="Hours of history per evaluation batch.")] = 24,
    paths: PathsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON report on stdout.")] = False,
) -> None:
    """Run rules over stored history; alerts per rule per day, and precision/recall where ground truth exists."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from lakesentinel.cli.common import spark
    from lakesentinel.rules.backtest import run_backtest

    end = _when(until, "until") if until else datetime.now(timezone.utc)
    start = _when(since, "since") if since else end - timedelta(days=30)
    cfg = settings()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("backtest", total=None)
        result = run_backtest(spark(), cfg, since=start, until=end, rule_ids=rule_ids, paths=paths,
                              chunk=timedelta(hours=chunk_hours),
                              on_chunk=lambda s, t: progress.update(task, description=f"{s} {t:%Y-%m-%d %H:%M}"))
    _print_backtest(result)
    if as_json:
        emit_json(result.to_dict())


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _print_backtest(result) -> None:
    table = Table("rule", "alerts", "false", "precision", "recall", "alerts per day (MM-DD:n)",
                  title=f"backtest {result.since:%Y-%m-%d %H:%M} .. {result.until:%Y-%m-%d %H:%M} UTC "
                        f"({result.days:.1f} days, {result.seconds:.0f}s)")
    table.columns[0].no_wrap = True
    for s in sorted(result.scores.values(), key=lambda s: s.rule_id):
        days = " ".join(f"{d[5:]}:{n}" for d, n in s.per_day.items())
        table.add_row(s.rule_id, str(s.alerts), str(s.alerts - s.true_alerts) if result.has_ground_truth else "-",
                      _pct(s.precision) if result.has_ground_truth else "-", _pct(s.recall), days or "")
    console.print(table)
    if not result.has_ground_truth:
        console.print("no simulator ground truth for this period: precision and recall not computed")
        return
    for domain in sorted({s.domain for s in result.scores.values()}):
        found, total = result.scenario_recall(domain)
        console.print(f"{domain}: {found}/{total} injected scenario(s) found; "
                      f"{result.false_alerts_per_day(domain):.2f} false alert(s) per day")
    missed = [t for t in result.truths if not result.detected.get(t["scenario_id"])]
    for t in missed:
        console.print(f"[yellow]missed[/] {t['scenario_type']} ({t['domain']}) on {t['entity_type']} {t['entity_id']} "
                      f"at {t['start_time']:%Y-%m-%d %H:%M}", highlight=False)


@app.command("explain")
def explain(
    rule_id: Annotated[str, typer.Argument(help="The rule id.")],
    paths: PathsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as one JSON line on stdout.")] = False,
) -> None:
    """The compiled Spark SQL of a rule (rows, group keys, values), its threshold, window, and the fields it reads."""
    loader = _load(paths)
    rule = _select(loader, [rule_id])[0]
    info = rule.explain()
    if as_json:
        emit_json(info)
        return
    console.print(f"[bold]{rule.id}[/] v{rule.version} ({rule.kind} rule on {rule.source.name}) from {rule.file}")
    console.print(f"  time:      {escape(info['time'])}", highlight=False)
    console.print(f"  evidence:  {json.dumps(info['evidence_key'])}", highlight=False)
    for name, exprs in info["group_by"].items():
        console.print(f"  group {escape(name)}: {escape(' | '.join(exprs))}", highlight=False, soft_wrap=True)
    for i, s in enumerate(info["series"]):
        console.print(f"  series {i} (part {s['part']}{', distinct' if s.get('distinct') else ''}):", highlight=False)
        console.print(f"    rows:  {_pretty(s['rows'], '           ')}", highlight=False, soft_wrap=True)
        if "value" in s:
            console.print(f"    value: {_pretty(s['value'], '           ')}", highlight=False, soft_wrap=True)
    for key in ("threshold", "window", "steps", "within_s", "suppress_s", "lateness_s"):
        if key in info:
            console.print(f"  {key}: {escape(str(info[key]))}", highlight=False)
    console.print(f"  reads: {escape(', '.join(info['reads']))}", highlight=False)
    if info["enrichments"]:
        console.print(f"  enrichments: {', '.join(info['enrichments'])}", highlight=False)


@app.command("coverage")
def coverage_cmd(
    paths: PathsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the coverage as one JSON line on stdout.")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the table docs/rules.md shows.")] = False,
) -> None:
    """Which ATT&CK techniques that apply to Databricks the rules (by their attack.t... tags) and detectors
    cover, and why the others cannot be seen. Exit 1 on a tag or detector the catalogue does not know."""
    from lakesentinel.detectors.spec import load_specs
    from lakesentinel.rules.coverage import coverage, load_catalogue, markdown

    loader = _load(paths)
    _print_issues([i for i in loader.issues if i.severity == "error"])
    catalogue = load_catalogue()
    detectors = [s.id for s in load_specs(settings().paths.resolve("detectors"))]
    report = coverage(catalogue, {r.id: list(r.rule.tags) for r in loader.rules.values()}, detectors)
    if as_markdown:
        typer.echo(markdown(report, catalogue), nl=False)
    elif as_json:
        emit_json({**report.summary(), "rows": [
            {"technique": r.technique.id, "name": r.technique.name, "tactics": r.technique.tactics, "status": r.status,
             "rules": r.rules, "detectors": r.detectors, "gap": r.technique.gap} for r in report.rows]})
    else:
        table = Table("tactic", "technique", "covered by", title="ATT&CK coverage")
        table.columns[2].overflow = "fold"  # rule ids are what people grep for: never cut them short
        for r in report.rows:
            by = "\n".join(r.rules + [f"{d} (detector)" for d in r.detectors])
            shown = escape(by) if by else (f"[yellow]gap[/]: {escape(r.technique.gap)}" if r.technique.gap
                                           else "[red]not covered[/]")
            table.add_row(r.technique.tactics[0].replace("_", " "), f"{r.technique.id} {escape(r.technique.name)}", shown)
        console.print(table)
        s = report.summary()
        console.print(f"{s['techniques']} technique(s): {s['covered']} covered, {s['gap']} not visible in the "
                      f"system tables (gap), {s['missing']} not covered")
    problems = [f"{rule}: tag {tag} names no technique in the ATT&CK catalogue" for rule, tags in
                report.unknown_tags.items() for tag in tags]
    problems += [f"detector {d} (named by the catalogue) is not loaded" for d in report.unknown_detectors]
    for line in problems:
        typer.echo(line, err=True)
    if problems:
        raise typer.Exit(1)


@app.command("schema")
def schema(
    write: Annotated[bool, typer.Option(help="Write rules/rule.schema.json instead of printing it.")] = False,
    check: Annotated[bool, typer.Option(help="Exit 1 if rules/rule.schema.json is out of date.")] = False,
) -> None:
    """The JSON Schema of rule files (generated from the rule model; editors use it for completion)."""
    from lakesentinel.rules.model import json_schema_text

    target = settings().paths.resolve("rules") / "rule.schema.json"
    text = json_schema_text()
    if check:
        current = target.read_text() if target.is_file() else ""
        if current != text:
            console.print(f"{target} is out of date: run `lakesentinel rules schema --write`")
            raise typer.Exit(1)
        console.print(f"{target} is up to date")
        return
    if write:
        target.write_text(text)
        console.print(f"wrote {target}")
        return
    typer.echo(text, nl=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rules")
