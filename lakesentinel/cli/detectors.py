"""``lakesentinel detectors list|evaluate|score-csv`` and ``lakesentinel bench detectors``."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lakesentinel.cli.common import console, context, emit_json, settings
from lakesentinel.errors import LakeSentinelError

app = typer.Typer(help="Online detectors: list them, evaluate them on simulated incidents, score a series.",
                  no_args_is_help=True)

# What "done" means for a shipped detector on the scenario types it is for.
RECALL_TARGET = 0.9
PRECISION_TARGET = 0.8


class SeriesFileError(LakeSentinelError):
    """A series file for score-csv cannot be read; the message names the file and line."""


def _specs(include_disabled: bool = False):
    from lakesentinel.detectors.spec import load_specs

    cfg = settings()
    return load_specs(cfg.paths.resolve("detectors"), include_disabled=include_disabled)


@app.command("list")
def list_detectors(
    all_: Annotated[bool, typer.Option("--all", help="Include disabled detectors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line with every detector instead.")] = False,
) -> None:
    """Name the configured detectors, one per line, name first (then domain, model, source, entity, window)."""
    specs = _specs(all_)
    rows = [{"id": s.id, "domain": s.domain, "model": s.model.type, "source": s.metric.source,
             "entity": ",".join(s.metric.entity), "window": s.metric.window.size, "enabled": s.enabled,
             "scenarios": s.evaluation.scenarios, "file": s.file} for s in specs]
    if as_json:
        emit_json({"detectors": rows})
        return
    width = max((len(r["id"]) for r in rows), default=0)
    for r in rows:
        typer.echo(f"{r['id']:<{width}}  {r['domain']:<11}  {r['model']:<17}  {r['source']:<25}  "
                   f"{r['entity']:<24}  {r['window']}{'' if r['enabled'] else '  (disabled)'}")


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise typer.BadParameter(f"not a comma-separated list of integers: {text!r}") from None
    if not seeds:
        raise typer.BadParameter("give at least one seed")
    return seeds


def _fmt(value, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


@app.command("evaluate")
def evaluate(
    detector: Annotated[Optional[list[str]], typer.Option("--detector", "-d", help="Only these detector ids (repeatable).")] = None,
    profile: Annotated[str, typer.Option(help="Simulated organisation size: small, medium or large.")] = "medium",
    days: Annotated[int, typer.Option(min=2, help="Simulated days per seed.")] = 21,
    seeds: Annotated[str, typer.Option(help="Comma-separated simulator seeds, one organisation each "
                                            "(the shipped specs were tuned on seeds 1 to 9).")] = "21,22,23",
    per_type: Annotated[int, typer.Option(min=1, help="Instances of each scenario type per seed.")] = 3,
    warmup_days: Annotated[int, typer.Option(min=1, help="Scenario-free days first (the burn-in).")] = 7,
    scratch: Annotated[Optional[Path], typer.Option(help="Where the simulated lakehouses go (default: a temporary directory).")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the simulated lakehouses and scores.")] = False,
    mlflow: Annotated[bool, typer.Option("--mlflow/--no-mlflow", help="Log the run and the detector models to MLflow.")] = True,
    register: Annotated[bool, typer.Option(help="Also register each detector's model in the model registry.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Precision, recall, F1 and detection delay per detector and scenario type, on simulated incidents.

    Each seed is an organisation written with the simulator into a scratch lakehouse; every detector
    streams over it as the monitor would, and its alerts are matched to the injected ground truth.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from lakesentinel.detectors.scenario_run import ScenarioPlan, combined, run
    from lakesentinel.detectors.spec import find_spec

    cfg = settings()
    specs = _specs()
    if detector:
        specs = [find_spec(specs, d) for d in detector]
    plan = ScenarioPlan(profile=profile, days=days, seeds=_seeds(seeds), per_type=per_type, warmup_days=warmup_days)
    if days <= warmup_days:
        raise typer.BadParameter(f"--days ({days}) must exceed --warmup-days ({warmup_days})")
    root = scratch or Path(tempfile.mkdtemp(prefix="lakesentinel-evaluate-"))
    spark = context().spark
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("starting", total=None)
            results = run(spark, specs, plan, root, on_step=lambda m: progress.update(task, description=m), keep=keep)
    finally:
        if not keep and scratch is None:
            shutil.rmtree(root, ignore_errors=True)
    totals = combined(results)
    summary = _report(specs, totals, plan)
    if mlflow:
        from lakesentinel.detectors.tracking import log_evaluation

        params = {"profile": profile, "days": days, "seeds": seeds, "per_type": per_type, "warmup_days": warmup_days}
        per_seed = [{"seed": r.seed, "scenarios": r.scenarios, "rows": r.rows,
                     "detectors": {k: {"tp": v.true_positives, "fp": v.false_positives, "found": v.found,
                                       "instances": v.instances} for k, v in r.evaluations.items()}} for r in results]
        run_id = log_evaluation(cfg, specs, totals, params, per_seed, register=register)
        summary["mlflow_run_id"] = run_id
        console.print(f"logged to MLflow ({cfg.mlflow.tracking_uri or 'default'}), run {run_id}")
    if keep:
        console.print(f"simulated lakehouses and scores kept under {root}")
    if as_json:
        emit_json(summary)


def _report(specs, totals, plan) -> dict:
    table = Table("detector", "scenario type", "found", "recall", "precision", "F1", "delay median", "delay max",
                  "meets target", title=f"Detectors on simulated incidents: {plan.profile}, {plan.days} days, "
                                        f"seeds {','.join(map(str, plan.seeds))}, {plan.per_type} per type")
    out = {"plan": {"profile": plan.profile, "days": plan.days, "seeds": list(plan.seeds), "per_type": plan.per_type,
                    "warmup_days": plan.warmup_days}, "detectors": {}}
    for spec in specs:
        ev = totals.get(spec.id)
        if ev is None:
            continue
        rows = {}
        for scenario in spec.evaluation.scenarios:
            n, found = ev.instances.get(scenario, 0), ev.found.get(scenario, 0)
            recall, f1 = ev.recall.get(scenario), ev.f1(scenario)
            delays = sorted(ev.delays_minutes.get(scenario, []))
            median = delays[len(delays) // 2] if delays else None
            ok = (recall is not None and recall >= RECALL_TARGET and ev.precision is not None
                  and ev.precision >= PRECISION_TARGET)
            table.add_row(spec.id, scenario, f"{found}/{n}", _fmt(recall), _fmt(ev.precision), _fmt(f1),
                          _fmt(median, "{:.0f} min"), _fmt(delays[-1] if delays else None, "{:.0f} min"),
                          "[green]yes[/]" if ok else "[red]no[/]")
            rows[scenario] = {"instances": n, "found": found, "recall": recall, "f1": f1, "delay_median_minutes": median,
                              "delay_max_minutes": delays[-1] if delays else None, "meets_target": ok}
        out["detectors"][spec.id] = {"precision": ev.precision, "detections": ev.detections,
                                     "true_positives": ev.true_positives, "false_positives": ev.false_positives,
                                     "other_incidents": ev.other_incidents, "burn_in_detections": ev.burn_in,
                                     "scenarios": rows}
    console.print(table)
    console.print("Event level: alerting windows of one entity in a row make one detection; precision leaves out "
                  "detections of other scenario types and those during the burn-in. Delay: scenario start to the end "
                  "of the first alerting window (event time; the source's landing delay comes on top).")
    for spec in specs:
        ev = totals.get(spec.id)
        if ev is not None:
            console.print(f"  {spec.id}: {ev.detections} detections, {ev.true_positives} on target, "
                          f"{ev.false_positives} false, {ev.other_incidents} of other scenario types, "
                          f"{ev.burn_in} during the burn-in")
    return out


def read_series(path: Path) -> tuple[list, list[float]]:
    """``timestamp,value`` rows of a CSV file; a bad row stops with its line number."""
    import pandas as pd

    if not path.is_file():
        raise SeriesFileError(f"{path}: no such file")
    times, values = [], []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"timestamp", "value"} - set(reader.fieldnames or [])
        if missing:
            raise SeriesFileError(f"{path}:1: header must name timestamp and value columns; missing "
                                  f"{', '.join(sorted(missing))} (found: {', '.join(reader.fieldnames or []) or 'nothing'})")
        for line, row in enumerate(reader, start=2):
            try:
                t = pd.Timestamp(row["timestamp"])
            except (ValueError, TypeError):
                raise SeriesFileError(f"{path}:{line}: timestamp {row['timestamp']!r} is not a date and time") from None
            try:
                v = float(row["value"]) if row["value"] not in ("", None) else float("nan")
            except ValueError:
                raise SeriesFileError(f"{path}:{line}: value {row['value']!r} is not a number") from None
            times.append(t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC"))
            values.append(v)
    return times, values


@app.command("score-csv")
def score_csv(
    source: Annotated[Path, typer.Argument(help="Input CSV with columns timestamp,value.")],
    target: Annotated[Path, typer.Argument(help="Output CSV: timestamp,value,anomaly_score.")],
    detector: Annotated[str, typer.Option("--detector", "-d", help="Detector id whose configuration scores the series.")],
    windowed: Annotated[bool, typer.Option(help="Aggregate points into the detector's windows first "
                                                "(default: each point is one observation).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with a one-line JSON summary on stdout.")] = False,
) -> None:
    """Stream a univariate series through a detector configuration; scores are in [0, 1].

    Rows are scored in time order from a fresh state, each before it is learned (warm-up, seasonality
    and the alert settings of the configuration apply); empty values are missing observations.
    """
    import pandas as pd

    from lakesentinel.detectors.entity import EntityScorer, score_series
    from lakesentinel.detectors.mlflow_model import score_frame
    from lakesentinel.detectors.spec import find_spec

    spec = find_spec(_specs(True), detector)
    times, values = read_series(source)
    frame = pd.DataFrame({"timestamp": times, "value": values})
    if windowed:
        scorer = EntityScorer(spec)
        points = [(int(t.value // 1000), v) for t, v in zip(times, values)]
        by_window = {w.window_start_us: w.score for w in score_series(spec, points, windowed=True)}
        scores = [by_window.get(int(t.value // 1000) // scorer.size_us * scorer.size_us, 0.0) for t in times]
    else:
        scores = score_frame(spec, frame)["anomaly_score"].tolist()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for t, v, s in zip(times, values, scores):
            writer.writerow([t.isoformat(), "" if v != v else repr(v), f"{s:.6f}"])
    high = sum(1 for s in scores if s >= spec.alert.lowest_threshold)
    console.print(f"scored {len(scores):,} points with {spec.id} ({spec.model.type}) -> {target}; "
                  f"{high} at or above the lowest alert threshold {spec.alert.lowest_threshold}")
    if as_json:
        emit_json({"detector": spec.id, "points": len(scores), "above_threshold": high, "output": str(target)})


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="detectors")
