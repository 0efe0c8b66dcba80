"""The Lakeview (AI/BI) dashboard files: ``.lvdash.json`` per persona and the bundle resource deploying them.

A dashboard file holds ``datasets`` (``name``, ``displayName``, ``queryLines``: the SQL, one line an
item) and ``pages`` whose ``layout`` places widgets on a 6-column grid; a widget names the dataset it
reads in ``queries`` and says how to draw it in ``spec`` (``widgetType``, ``encodings``, ``frame``).

Queries name tables by schema (``plt_gold.fact_cost_daily``): the bundle's ``dataset_catalog`` sets
the catalog on deploy, and the same text runs on the embedded default, which has no catalog. Metric
view datasets are the metric view's measures compiled to plain SQL over gold (what the embedded default
runs), so they do not need the metric views deployed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlglot
import yaml

from lakesentinel.dashboards.personas import PERSONAS, Dataset, GoldView, Metric, Persona, Review, Widget
from lakesentinel.errors import LakeSentinelError
from lakesentinel.lakehouse import LAYERS
from lakesentinel.settings import Settings

RESOURCE_FILE = "resources/dashboards.yml"
DASHBOARD_DIR = "dashboards"
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")
_HEIGHT = {"counter": 2, "table": 6, "bar": 6, "line": 6}


class DashboardError(LakeSentinelError):
    """A dashboard definition that does not fit its datasets, or files that differ from what is generated."""


def _render(sql: str, cfg: Settings) -> str:
    """``{gold}``-style placeholders to schema names, without a catalog (the bundle sets it)."""
    def schema(m: re.Match[str]) -> str:
        if m.group(1) not in LAYERS:
            raise DashboardError(f"unknown placeholder {m.group(0)} in a dashboard query")
        return getattr(cfg.schemas, m.group(1))

    return _PLACEHOLDER.sub(schema, sql)


def _select(columns: tuple[str, ...], source: str, where: str | None, order_by: str | None, limit: int | None) -> str:
    sql = f"SELECT {', '.join(columns)}\nFROM {source}"
    if where:
        sql += f"\nWHERE {where}"
    if order_by:
        sql += f"\nORDER BY {order_by}"
    if limit:
        sql += f"\nLIMIT {limit}"
    return sql


def dataset_sql(dataset: Dataset, cfg: Settings) -> str:
    """The dataset's query as the dashboard runs it."""
    src = dataset.source
    if isinstance(src, GoldView):
        sql = _select(src.columns, f"{{gold}}.{src.view}", src.where, src.order_by, src.limit)
    elif isinstance(src, Review):
        from lakesentinel.reviews.incident_review import latest_days_condition, review_sql

        inner = review_sql(src.review, latest_days_condition()).strip()
        sql = _select(src.columns, f"(\n{inner}\n) review", src.where, src.order_by, src.limit)
    elif isinstance(src, Metric):
        from lakesentinel.analytics.metric_view import load_metric_views

        views = {v.name: v for v in load_metric_views()}
        if src.view not in views:
            raise DashboardError(f"dataset {dataset.name}: no metric view {src.view!r}; one of {', '.join(sorted(views))}")
        sql = views[src.view].select(list(src.by), list(src.measures), src.where, render=lambda s: s)
    else:  # pragma: no cover - the dataclasses above are all there is
        raise DashboardError(f"dataset {dataset.name}: unknown source {src!r}")
    return _render(sql, cfg)


def columns_of(sql: str, where: str) -> list[str]:
    """The names a query returns, read from its outermost SELECT (no ``*``: widgets need names)."""
    try:
        tree = sqlglot.parse_one(sql, dialect="databricks")
    except sqlglot.errors.ParseError as exc:
        raise DashboardError(f"{where}: does not parse as Databricks SQL: {exc}") from None
    names = tree.named_selects
    if not names or "*" in names:
        raise DashboardError(f"{where}: name every column the query returns")
    return names


def _query_lines(sql: str) -> list[str]:
    lines = sql.strip().split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _field(name: str, expression: str) -> dict:
    return {"name": name, "expression": expression}


def _widget(persona: Persona, n: int, w: Widget, columns: dict[str, list[str]]) -> dict:
    have = columns.get(w.dataset)
    where = f"dashboard {persona.key}, widget {n} ({w.title})"
    if have is None:
        raise DashboardError(f"{where}: no dataset {w.dataset!r}; one of {', '.join(columns)}")
    wanted = [c for c in (w.x, w.y, w.color) if c] + list(w.columns or [])
    missing = [c for c in wanted if c not in have]
    if missing:
        raise DashboardError(f"{where}: dataset {w.dataset} has no column(s) {', '.join(missing)}; it has {', '.join(have)}")
    name = f"{persona.key}_{n:02d}_{w.kind}_{w.dataset}"
    frame = {"showTitle": True, "title": w.title}
    if w.kind == "table":
        shown = list(w.columns or have)
        fields = [_field(c, f"`{c}`") for c in shown]
        spec = {"version": 2, "widgetType": "table", "frame": frame,
                "encodings": {"columns": [{"fieldName": c, "displayName": c} for c in shown]}}
        disaggregated = True
    elif w.kind == "counter":
        fields = [_field(w.y, f"`{w.y}`")]
        spec = {"version": 2, "widgetType": "counter", "frame": frame,
                "encodings": {"value": {"fieldName": w.y, "displayName": w.title}}}
        disaggregated = True
    elif w.kind in ("bar", "line"):
        y = f"sum({w.y})"
        fields = [_field(w.x, f"`{w.x}`"), _field(y, f"SUM(`{w.y}`)")]
        encodings = {"x": {"fieldName": w.x, "displayName": w.x,
                           "scale": {"type": "temporal" if ("date" in w.x or "week" in w.x) and w.x != "date_key"
                                     else "categorical"}},
                     "y": {"fieldName": y, "displayName": w.y, "scale": {"type": "quantitative"}}}
        if w.color:
            fields.append(_field(w.color, f"`{w.color}`"))
            encodings["color"] = {"fieldName": w.color, "displayName": w.color, "scale": {"type": "categorical"}}
        spec = {"version": 3, "widgetType": w.kind, "frame": frame, "encodings": encodings}
        disaggregated = False
    else:
        raise DashboardError(f"{where}: unknown widget kind {w.kind!r}; table, counter, bar or line")
    return {"name": name, "queries": [{"name": "main_query", "query": {
        "datasetName": w.dataset, "fields": fields, "disaggregated": disaggregated}}], "spec": spec}


def dashboard(persona: Persona, cfg: Settings) -> dict:
    """One persona's dashboard, as the ``.lvdash.json`` file holds it."""
    datasets, columns = [], {}
    for ds in persona.datasets:
        sql = dataset_sql(ds, cfg)
        columns[ds.name] = columns_of(sql, f"dashboard {persona.key}, dataset {ds.name}")
        datasets.append({"name": ds.name, "displayName": ds.title, "queryLines": _query_lines(sql)})
    layout = [{"widget": {"name": f"{persona.key}_00_title", "multilineTextboxSpec": {
        "lines": [f"# lakesentinel: {persona.title}\n", persona.intro]}},
        "position": {"x": 0, "y": 0, "width": 6, "height": 2}}]
    x, y, row_height = 0, 2, 0
    for n, w in enumerate(persona.widgets, start=1):
        if x + w.width > 6:
            x, y, row_height = 0, y + row_height, 0
        height = _HEIGHT.get(w.kind, 6)
        layout.append({"widget": _widget(persona, n, w, columns),
                       "position": {"x": x, "y": y, "width": w.width, "height": height}})
        x, row_height = x + w.width, max(row_height, height)
    return {"datasets": datasets,
            "pages": [{"name": persona.key, "displayName": persona.title, "layout": layout, "pageType": "PAGE_TYPE_CANVAS"}],
            "uiSettings": {"theme": {"widgetHeaderAlignment": "ALIGNMENT_UNSPECIFIED"}}}


def bundle_resources(personas: tuple[Persona, ...] = PERSONAS) -> dict:
    """The bundle's ``dashboards`` resources, one per file (paths relative to ``resources/``)."""
    return {"resources": {"dashboards": {
        f"lakesentinel_{p.key}": {
            "display_name": f"lakesentinel {p.title} (${{bundle.target}})",
            "file_path": f"../{DASHBOARD_DIR}/{p.key}.lvdash.json",
            "warehouse_id": "${var.dashboard_warehouse_id}",
            "parent_path": "${workspace.resource_path}",
            "dataset_catalog": "${var.catalog}",
            "embed_credentials": False,
        } for p in personas}}}


def rendered_files(cfg: Settings, personas: tuple[Persona, ...] = PERSONAS) -> dict[str, str]:
    """Every generated file's text by its path under the bundle folder."""
    out = {f"{DASHBOARD_DIR}/{p.key}.lvdash.json": json.dumps(dashboard(p, cfg), indent=2) + "\n" for p in personas}
    out[RESOURCE_FILE] = ("# Generated by `lakesentinel dashboards build` from lakesentinel/dashboards/: edit there.\n"
                          "# The Lakeview dashboards, one per persona (docs/dashboards.md).\n"
                          + yaml.safe_dump(bundle_resources(personas), sort_keys=False, width=120))
    return out


def build(bundle_dir: Path, cfg: Settings, check: bool = False) -> list[str]:
    """Write the files (or, with ``check``, name those that differ from what would be written)."""
    differ = []
    for rel, text in rendered_files(cfg).items():
        path = bundle_dir / rel
        if path.is_file() and path.read_text() == text:
            continue
        differ.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return differ
