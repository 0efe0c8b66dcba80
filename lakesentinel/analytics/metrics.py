"""The metric views in a session: created over gold (plain views locally, metric views on Databricks)
and queried by dimension."""

from __future__ import annotations

from pathlib import Path

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from lakesentinel.analytics.metric_view import MetricView, MetricViewError, load_metric_views
from lakesentinel.gold.ddl import render
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

# Tables each view reads: registered in the session before a view over them is created.
_TABLE_REF = r"\{(gold|silver|ops|features)\}\.([a-z_]+)"


def _renderer(cfg: Settings, path: str):
    return lambda text: render(text, cfg, Path(path))


def view_name(cfg: Settings, view: MetricView) -> str:
    return Lakehouse(cfg).name("gold", view.view_name)


def _register_inputs(spark: SparkSession, cfg: Settings, view: MetricView) -> None:
    import re

    lh = Lakehouse(cfg)
    for layer, table in set(re.findall(_TABLE_REF, view.text)):
        lh.ensure(spark, lh.name(layer, table))


def _culprit(spark: SparkSession, cfg: Settings, view: MetricView, exc: Exception) -> MetricViewError:
    """Name the dimension or measure that Spark rejected, with its file and line."""
    r = _renderer(cfg, view.path)
    for field in view.dimensions:
        try:
            spark.sql(view.select([field.name], measures=[view.measures[0].name], render=r) + " LIMIT 0").schema
        except PySparkException as e:
            return MetricViewError(f"{view.path}:{field.line}: dimension {field.name}: {str(e).splitlines()[0]}")
    for field in view.measures:
        try:
            spark.sql(view.select([], measures=[field.name], render=r) + " LIMIT 0").schema
        except PySparkException as e:
            return MetricViewError(f"{view.path}:{field.line}: measure {field.name}: {str(e).splitlines()[0]}")
    return MetricViewError(f"{view.path}: {str(exc).splitlines()[0]}")


def create_metric_views(spark: SparkSession, cfg: Settings, views: list[MetricView] | None = None) -> list[MetricView]:
    """Create (or replace) every metric view in the session; the views created."""
    views = views if views is not None else load_metric_views()
    for view in views:
        _register_inputs(spark, cfg, view)
        r = _renderer(cfg, view.path)
        name = view_name(cfg, view)
        sql = view.databricks_view_sql(name, r) if cfg.runtime == "databricks" else view.local_view_sql(name, r)
        try:
            spark.sql(sql)
        except PySparkException as exc:
            raise _culprit(spark, cfg, view, exc) from None
    return views


def query_metric(spark: SparkSession, cfg: Settings, view: MetricView, by: list[str],
                 measures: list[str] | None = None, where: str | None = None) -> DataFrame:
    """The view's measures grouped by ``by``, filtered by ``where`` (a condition over dimensions)."""
    _register_inputs(spark, cfg, view)
    if cfg.runtime == "databricks":
        sql = view.databricks_select(view_name(cfg, view), by, measures, where)
    else:
        sql = view.select(by, measures, where, render=_renderer(cfg, view.path))
    try:
        df = spark.sql(sql)
        df.schema  # analyse now, so that a bad --where is reported here
        return df
    except PySparkException as exc:
        raise MetricViewError(f"metric view {view.name} by {by} where {where!r}: {str(exc).splitlines()[0]}") from None


def find_view(name: str, views: list[MetricView] | None = None) -> MetricView:
    views = views if views is not None else load_metric_views()
    for v in views:
        if name in (v.name, v.view_name):
            return v
    raise MetricViewError(f"no metric view {name!r}; views: {', '.join(v.name for v in views)}")
