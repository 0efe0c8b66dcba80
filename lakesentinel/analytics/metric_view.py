"""Metric views: measures defined once, in the Databricks metric view YAML (``metric_views/*.yaml``).

A file holds one view in the documented format (``version``, ``comment``, ``source``, ``filter``,
``joins`` with ``name``/``source``/``on`` or ``using``, ``dimensions`` and ``measures``, each a
``name`` and an ``expr``). On Databricks it is deployed as it is (``CREATE VIEW ... WITH METRICS
LANGUAGE YAML``) and queried with ``MEASURE()``; on the embedded default it compiles, through
sqlglot, to plain Spark SQL: one view ``mv_<name>`` grouped by every dimension, and any query
grouped by the dimensions asked for. Dimension names may be used in ``--where``; they are replaced by
their expressions, as the metric view engine does.

>>> view = parse_metric_view('''
... version: 1.1
... source: "{gold}.fact_cost_daily"
... dimensions:
...   - {name: workspace_id, expr: source.workspace_id}
... measures:
...   - {name: list_cost, expr: SUM(source.list_cost)}
... ''', "cost.yaml")
>>> print(view.select(["workspace_id"], where="workspace_id = '1'", render=lambda s: s.format(gold="g")))
SELECT source.workspace_id AS workspace_id, SUM(source.list_cost) AS list_cost FROM g.fact_cost_daily AS source WHERE ((source.workspace_id) = '1') GROUP BY source.workspace_id ORDER BY workspace_id
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import sqlglot
from sqlglot import exp

from lakesentinel.errors import LakeSentinelError
from lakesentinel.yamlpos import YamlSyntaxError, load_documents

VIEWS_DIR = Path(str(resources.files("lakesentinel.analytics") / "metric_views"))
TOP_KEYS = {"version", "comment", "source", "filter", "joins", "dimensions", "measures"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DIALECT = "databricks"


class MetricViewError(LakeSentinelError):
    """A metric view file that does not fit the format, or a query a view cannot answer."""


@dataclass(frozen=True)
class Join:
    name: str
    source: str
    on: str | None
    using: tuple[str, ...]


@dataclass(frozen=True)
class Field:
    """A dimension or a measure: a name, its SQL expression (Databricks dialect) and a comment."""

    name: str
    expr: str
    comment: str
    line: int


@dataclass(frozen=True)
class MetricView:
    name: str
    path: str
    text: str
    version: str
    comment: str
    source: str
    filter: str | None
    joins: tuple[Join, ...]
    dimensions: tuple[Field, ...]
    measures: tuple[Field, ...]

    @property
    def view_name(self) -> str:
        return f"mv_{self.name}"

    def dimension(self, name: str) -> Field:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise MetricViewError(f"metric view {self.name} ({self.path}) has no dimension {name!r}; "
                              f"dimensions: {', '.join(d.name for d in self.dimensions)}")

    def measure(self, name: str) -> Field:
        for m in self.measures:
            if m.name == name:
                return m
        raise MetricViewError(f"metric view {self.name} ({self.path}) has no measure {name!r}; "
                              f"measures: {', '.join(m.name for m in self.measures)}")

    def _from(self, render: Callable[[str], str]) -> str:
        source = render(self.source).strip()
        sql = f"({source}) AS source" if _is_query(source) else f"{source} AS source"
        for j in self.joins:
            cond = f"ON {j.on}" if j.on else f"USING ({', '.join(j.using)})"
            sql += f" LEFT JOIN {render(j.source)} AS {j.name} {cond}"
        return sql

    def _where(self, where: str | None) -> str | None:
        """``--where`` over dimension names, rewritten to their expressions."""
        if not where:
            return None
        try:
            tree = sqlglot.parse_one(where, dialect=_DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise MetricViewError(f"metric view {self.name}: --where {where!r} does not parse: "
                                  f"{str(exc).splitlines()[0]}") from None
        names = {d.name: d for d in self.dimensions}

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table:
                if node.name not in names:
                    raise MetricViewError(
                        f"metric view {self.name}: --where names {node.name!r}, which is not a dimension; "
                        f"dimensions: {', '.join(names)}")
                return exp.Paren(this=sqlglot.parse_one(names[node.name].expr, dialect=_DIALECT))
            return node

        return tree.transform(swap).sql(dialect="spark")

    def select(self, by: list[str], measures: list[str] | None = None, where: str | None = None,
               render: Callable[[str], str] = lambda s: s) -> str:
        """Spark SQL for the measures (all by default) grouped by the dimensions ``by``."""
        dims = [self.dimension(b) for b in by]
        chosen = [self.measure(m) for m in measures] if measures else list(self.measures)
        cols = [f"{_spark(d.expr)} AS {d.name}" for d in dims] + [f"{_spark(m.expr)} AS {m.name}" for m in chosen]
        sql = f"SELECT {', '.join(cols)} FROM {self._from(render)}"
        conditions = [f"({_spark(render(self.filter))})"] if self.filter else []
        extra = self._where(where)
        if extra:
            conditions.append(f"({extra})")
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if dims:
            sql += " GROUP BY " + ", ".join(_spark(d.expr) for d in dims)
            sql += " ORDER BY " + ", ".join(d.name for d in dims)
        return sql

    def local_view_sql(self, name: str, render: Callable[[str], str]) -> str:
        """The plain view of the embedded default: every measure at the grain of every dimension."""
        return (f"CREATE OR REPLACE VIEW {name} COMMENT '{_quote(self.comment)}' AS "
                + self.select([d.name for d in self.dimensions], render=render))

    def databricks_view_sql(self, name: str, render: Callable[[str], str]) -> str:
        """The metric view Databricks runs: this file's YAML with names rendered for the environment."""
        return f"CREATE OR REPLACE VIEW {name} WITH METRICS LANGUAGE YAML AS $$\n{render(self.text).strip()}\n$$"

    def databricks_select(self, name: str, by: list[str], measures: list[str] | None = None,
                          where: str | None = None) -> str:
        """A query of the deployed metric view: dimensions and ``MEASURE()`` of each measure."""
        dims = [self.dimension(b).name for b in by]
        chosen = [self.measure(m).name for m in measures] if measures else [m.name for m in self.measures]
        sql = f"SELECT {', '.join(dims + [f'MEASURE({m}) AS {m}' for m in chosen])} FROM {name}"
        if where:
            sql += f" WHERE {where}"
        if dims:
            sql += f" GROUP BY {', '.join(dims)} ORDER BY {', '.join(dims)}"
        return sql


def _is_query(source: str) -> bool:
    return bool(re.match(r"(?is)^\s*(select|with)\b", source))


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _spark(expr: str) -> str:
    """A Databricks SQL expression in the local engine's dialect."""
    return sqlglot.transpile(expr, read=_DIALECT, write="spark")[0]


def parse_metric_view(text: str, path: str) -> MetricView:
    """One metric view from its YAML text; errors name the file, the line and the field."""
    try:
        docs = load_documents(text, path)
    except YamlSyntaxError as exc:
        raise MetricViewError(f"{path}:{exc.position.line}: {exc}") from None
    if len(docs) != 1 or not isinstance(docs[0].value, dict):
        raise MetricViewError(f"{path}: expected one YAML mapping (a metric view)")
    doc = docs[0]
    data = doc.value
    name = Path(path).stem

    def fail(where: tuple, message: str) -> MetricViewError:
        return MetricViewError(f"{path}:{doc.where(where).line}: {message}")

    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise fail((unknown[0],), f"unknown key(s) {', '.join(unknown)}; a metric view has {', '.join(sorted(TOP_KEYS))}")
    for key in ("version", "source"):
        if not data.get(key):
            raise fail((), f"missing {key!r}")
    if not data.get("measures"):
        raise fail((), "missing 'measures'")

    def expression(where: tuple, text: str, what: str, aggregate: bool) -> str:
        try:
            parsed = sqlglot.parse_one(str(text), dialect=_DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise fail(where, f"{what}: {text!r} does not parse: {str(exc).splitlines()[0]}") from None
        has_agg = parsed.find(exp.AggFunc) is not None
        if aggregate and not has_agg:
            raise fail(where, f"{what}: a measure must aggregate (SUM, COUNT, AVG, PERCENTILE, ...): {text!r}")
        if not aggregate and has_agg:
            raise fail(where, f"{what}: a dimension cannot aggregate: {text!r}")
        return str(text)

    def fields(key: str, aggregate: bool) -> tuple[Field, ...]:
        out: list[Field] = []
        for i, item in enumerate(data.get(key) or []):
            if not isinstance(item, dict) or not item.get("name") or not item.get("expr"):
                raise fail((key, i), f"{key}[{i}]: needs a name and an expr")
            extra = sorted(set(item) - {"name", "expr", "comment", "display_name", "format", "synonyms"})
            if extra:
                raise fail((key, i), f"{key}[{i}] ({item['name']}): unknown key(s) {', '.join(extra)}")
            fname = str(item["name"])
            if not _NAME.match(fname):
                raise fail((key, i, "name"), f"{key}[{i}]: name {fname!r} must be lower_snake_case (it is a column)")
            if fname in {f.name for f in out}:
                raise fail((key, i, "name"), f"{key}[{i}]: {fname!r} is defined twice")
            expr_text = expression((key, i, "expr"), item["expr"], f"{key[:-1]} {fname}", aggregate)
            out.append(Field(fname, expr_text, str(item.get("comment", "")), doc.where((key, i)).line))
        return tuple(out)

    joins = []
    for i, j in enumerate(data.get("joins") or []):
        on = j.get("on", j.get(True)) if isinstance(j, dict) else None  # YAML 1.1 reads a bare `on` as true
        using = tuple(j.get("using") or ()) if isinstance(j, dict) else ()
        if not isinstance(j, dict) or not j.get("name") or not j.get("source") or (not on and not using):
            raise fail(("joins", i), f"joins[{i}]: needs a name, a source and 'on' or 'using'")
        if on:
            expression(("joins", i), on, f"join {j['name']}", False)
        joins.append(Join(str(j["name"]), str(j["source"]), str(on) if on else None, using))
    dimensions = fields("dimensions", False)
    measures = fields("measures", True)
    clash = {d.name for d in dimensions} & {m.name for m in measures}
    if clash:
        raise fail(("measures",), f"name(s) used by a dimension and a measure: {', '.join(sorted(clash))}")
    if data.get("filter"):
        expression(("filter",), data["filter"], "filter", False)
    return MetricView(name=name, path=path, text=text, version=str(data["version"]),
                      comment=str(data.get("comment") or "").strip(), source=str(data["source"]),
                      filter=str(data["filter"]) if data.get("filter") else None, joins=tuple(joins),
                      dimensions=dimensions, measures=measures)


def load_metric_views(folder: Path = VIEWS_DIR) -> list[MetricView]:
    """Every ``*.yaml`` metric view in ``folder``, by name."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise MetricViewError(f"{folder}: no metric view files (*.yaml)")
    return [parse_metric_view(f.read_text(), str(f)) for f in files]


def dump(view: MetricView) -> dict:
    """The view as plain data (for ``--json``)."""
    return {"name": view.name, "comment": view.comment,
            "dimensions": {d.name: d.comment for d in view.dimensions},
            "measures": {m.name: m.comment for m in view.measures}}


__all__ = ["MetricView", "MetricViewError", "load_metric_views", "parse_metric_view", "dump"]
