"""``lakesentinel metrics|features|forecast|models|budgets|recommend``: analytics and ML over gold."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lakesentinel.cli.common import console, emit_json, settings, spark

metrics_app = typer.Typer(help="Metric views: each domain's measures, defined once (Databricks metric view YAML).",
                          no_args_is_help=True)
features_app = typer.Typer(help="Feature tables in plt_features, point-in-time correct.", no_args_is_help=True)
models_app = typer.Typer(help="Models over the feature tables: train, evaluate on held-out seeds, list, score.",
                         no_args_is_help=True)
budgets_app = typer.Typer(help="Budgets and SLOs as data (plt_ops.budgets, plt_gold.dim_slo).", no_args_is_help=True)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _split(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


@metrics_app.command("list")
def metrics_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON line with every view.")] = False) -> None:
    """The metric views with their dimensions and measures."""
    from lakesentinel.analytics.metric_view import dump, load_metric_views

    views = load_metric_views()
    for v in views:
        console.print(f"[bold]{v.name}[/]  {v.comment}", highlight=False)
        console.print(f"  dimensions: {', '.join(d.name for d in v.dimensions)}", markup=False, highlight=False)
        console.print(f"  measures:   {', '.join(m.name for m in v.measures)}", markup=False, highlight=False)
    if as_json:
        emit_json({"metric_views": [dump(v) for v in views]})


@metrics_app.command("query")
def metrics_query(
    name: Annotated[str, typer.Argument(help="A metric view, e.g. cost.")],
    by: Annotated[Optional[list[str]], typer.Option("--by", help="Dimension(s) to group by; repeat or comma-separate.")] = None,
    measure: Annotated[Optional[list[str]], typer.Option("--measure", help="Measure(s) to show; all by default.")] = None,
    where: Annotated[Optional[str], typer.Option(help="A condition over dimensions, e.g. \"usage_month = DATE'2026-03-01'\".")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 50,
    show_sql: Annotated[bool, typer.Option("--sql", help="Print the SQL it runs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: the rows shown.")] = False,
) -> None:
    """The measures of a metric view grouped by the dimensions asked for."""
    from lakesentinel.analytics.metrics import find_view, query_metric

    view = find_view(name)
    dims = _split(by)
    df = query_metric(spark(), settings(), view, dims, _split(measure) or None, where)
    rows = df.limit(limit).collect()
    table = Table(*df.columns, title=f"{view.name}: {view.comment}")
    for r in rows:
        table.add_row(*[_cell(v) for v in r])
    console.print(table)
    if show_sql:
        console.print(view.select(dims, _split(measure) or None, where), markup=False, highlight=False)
    if as_json:
        emit_json({"view": view.name, "by": dims, "rows": [r.asDict() for r in rows]})


@features_app.command("refresh")
def features_refresh(
    full: Annotated[bool, typer.Option("--full", help="Rewrite every date of every table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: per table, mode, dates, rows.")] = False,
) -> None:
    """Bring the feature tables up to date with gold (incrementally: dates gold rebuilt and those after)."""
    from lakesentinel.analytics.features import refresh_features

    with console.status("refreshing feature tables"):
        results = refresh_features(spark(), settings(), full=full)
    table = Table("table", "mode", "dates", "rows")
    for r in results:
        table.add_row(r.table, r.mode, str(len(r.dates)), f"{r.rows:,}")
    console.print(table)
    if as_json:
        emit_json({"features": [r.__dict__ for r in results]})


def forecast(
    horizon: Annotated[int, typer.Option(min=14, max=30, help="Days ahead (14 to 30).")] = 28,
    level: Annotated[float, typer.Option(min=0.5, max=0.99, help="Nominal coverage of the prediction interval.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: rows written per table.")] = False,
) -> None:
    """Score the lakehouse: cost forecasts, failure probabilities and risk scores into gold; budget alerts."""
    from lakesentinel.analytics.budgets import budget_alerts
    from lakesentinel.analytics.forecast import ForecastParams
    from lakesentinel.analytics.training import score_lakehouse

    session, cfg = spark(), settings()
    with console.status("scoring"):
        counts = score_lakehouse(session, cfg, ForecastParams(horizon=horizon, level=level))
        alerts = budget_alerts(session, cfg)
    for table, n in counts.items():
        console.print(f"{table}: {n:,} rows", highlight=False)
    for p in alerts:
        console.print(f"budget {p.budget_id}: spent {p.spent:,.2f}, projected {p.projected:,.2f} of {p.amount:,.2f}: "
                      "alert raised", markup=False, highlight=False)
    if as_json:
        emit_json({"rows": counts, "budget_alerts": [p.budget_id for p in alerts]})


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise typer.BadParameter(f"not a comma-separated list of integers: {text!r}") from None


@models_app.command("evaluate")
def models_evaluate(
    days: Annotated[int, typer.Option(min=29, help="Simulated days per organisation (at least 2 weeks + horizon).")] = 35,
    profile: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    train_seeds: Annotated[str, typer.Option(help="Seeds to train on, comma-separated.")] = "31,32",
    test_seeds: Annotated[str, typer.Option(help="Held-out seeds, comma-separated.")] = "41,42",
    horizon: Annotated[int, typer.Option(min=14, max=30, help="Forecast horizon scored, in days.")] = 14,
    register: Annotated[bool, typer.Option(help="Register the models (local registry, or Unity Catalog).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the five headline figures.")] = False,
) -> None:
    """Train every model on simulated organisations and score it on held-out seeds; log and register in MLflow."""
    from lakesentinel.analytics.tracking import log_models
    from lakesentinel.analytics.training import Plan, evaluate, headline

    plan = Plan(profile=profile, days=days, train_seeds=_seeds(train_seeds), test_seeds=_seeds(test_seeds),
                horizon=horizon)
    with console.status("evaluating") as status:
        result = evaluate(spark(), plan, progress=lambda m: status.update(m))
        run_id = log_models(settings(), plan.__dict__, result.figures, result.forecast_params,
                            result.examples["forecast"], result.failure_model, result.examples["failure"],
                            result.examples["risk"], register=register)
    table = Table("figure", "value", title=f"held-out seeds {plan.test_seeds}; MLflow run {run_id}")
    for k, v in result.figures.items():
        table.add_row(k, _cell(v))
    console.print(table)
    if as_json:
        emit_json(headline(result.figures))


@models_app.command("train")
def models_train(
    horizon: Annotated[int, typer.Option(min=14, max=30, help="Forecast horizon backtested, in days.")] = 14,
    register: Annotated[bool, typer.Option(help="Register the models (local registry, or Unity Catalog).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of the figures.")] = False,
) -> None:
    """Retrain on this environment's own feature tables (the weekly job); log and register in MLflow."""
    from lakesentinel.analytics.tracking import log_models
    from lakesentinel.analytics.training import train_on_lakehouse

    session, cfg = spark(), settings()
    with console.status("training on the lakehouse's history"):
        result = train_on_lakehouse(session, cfg, horizon)
        if result.failure_model is None:
            console.print("no job run with a known outcome of each kind yet: nothing to train", highlight=False)
            raise typer.Exit(1)
        run_id = log_models(cfg, {"source": "lakehouse", "horizon": horizon}, result.figures, result.forecast_params,
                            result.examples["forecast"], result.failure_model, result.examples["failure"],
                            result.examples["risk"], register=register)
    for k, v in result.figures.items():
        console.print(f"{k}: {_cell(v)}", markup=False, highlight=False)
    console.print(f"MLflow run {run_id}", highlight=False)
    if as_json:
        emit_json(result.figures | {"run_id": run_id})


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON line instead.")] = False) -> None:
    """The registered analytics models and their latest versions."""
    from lakesentinel.analytics.tracking import list_models

    rows = list_models(settings())
    for r in rows:
        console.print(f"{r['model']:<15} {r['name']:<40} version {r['latest_version'] or '-'}", markup=False,
                      highlight=False)
    if as_json:
        emit_json({"models": rows})


@budgets_app.command("load")
def budgets_load(path: Annotated[Path, typer.Argument(help="A YAML file with budgets: and slos: lists.")]) -> None:
    """Insert or replace the budgets and SLOs of a YAML file."""
    from lakesentinel.analytics.budgets import load_file, save

    budgets, slos = load_file(path)
    save(spark(), settings(), budgets, slos)
    console.print(f"{len(budgets)} budget(s), {len(slos)} SLO(s) saved", highlight=False)


@budgets_app.command("set")
def budgets_set(
    budget_id: Annotated[str, typer.Argument(help="The budget's id.")],
    monthly_amount: Annotated[float, typer.Option("--monthly", help="Amount per calendar month, list prices.")],
    workspace: Annotated[Optional[str], typer.Option(help="Workspace id; the whole account when omitted.")] = None,
    alert_share: Annotated[float, typer.Option(help="Alert when the projection reaches this share.")] = 1.0,
) -> None:
    """Insert or replace one budget."""
    from lakesentinel.analytics.budgets import Budget, save

    b = Budget(budget_id=budget_id, scope_type="workspace" if workspace else "account", scope_id=workspace,
               monthly_amount=Decimal(str(monthly_amount)), alert_share=alert_share)
    save(spark(), settings(), [b], [])
    console.print(f"budget {budget_id} saved", highlight=False)


@budgets_app.command("list")
def budgets_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON line instead.")] = False) -> None:
    """Budgets with month-to-date spend and projection, and the SLOs."""
    from lakesentinel.analytics.budgets import project, slo_table

    session, cfg = spark(), settings()
    projections = project(session, cfg)
    for p in projections:
        console.print(f"{p.budget_id:<20} {p.workspace_id or 'account':<20} spent {p.spent:>12,.2f} projected "
                      f"{p.projected:>12,.2f} of {p.amount:>12,.2f}{'  ALERT' if p.alerting else ''}",
                      markup=False, highlight=False)
    slos = [r.asDict() for r in session.table(slo_table(session, cfg)).collect()]
    for s in slos:
        console.print(f"SLO {s['slo_id']}: {s['entity_type']} {s['entity_id']} >= {s['objective']:.1%} over "
                      f"{s['window_days']} days", markup=False, highlight=False)
    if as_json:
        emit_json({"budgets": [p.__dict__ for p in projections], "slos": slos})


def recommend(
    min_saving: Annotated[float, typer.Option(help="Hide recommendations saving less per month.")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line: the recommendations.")] = False,
) -> None:
    """Right-sizing of SQL warehouses from their utilisation: the change, the monthly saving, the evidence."""
    from lakesentinel.analytics.rightsizing import warehouse_recommendations

    recs = warehouse_recommendations(spark(), settings(), min_saving)
    table = Table("warehouse", "change", "saving / month", "evidence", title="right-sizing")
    for r in recs.sort_values("monthly_saving", ascending=False).itertuples():
        table.add_row(r.warehouse_id, r.change, f"{r.monthly_saving:,.2f}", r.evidence)
    console.print(table)
    if as_json:
        emit_json({"recommendations": recs.to_dict("records")})


def register(root: typer.Typer) -> None:
    root.add_typer(metrics_app, name="metrics")
    root.add_typer(features_app, name="features")
    root.add_typer(models_app, name="models")
    root.add_typer(budgets_app, name="budgets")
    root.command("forecast")(forecast)
    root.command("recommend")(recommend)
