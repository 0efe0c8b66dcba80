"""The query layer on the embedded default: Spark SQL over the local Delta lakehouse.

Tables live at paths and are registered in the session catalog on use, so every query first makes
the names it mentions point at this lakehouse; gold's views are created once gold exists.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

from pyspark.sql import SparkSession

from lakesentinel.opstables import Tables
from lakesentinel.app.query_layer import QueryError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings


def plain(value):
    """JSON-ready values: money and ratios as numbers (the API's charts plot them)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def schema_names(cfg: Settings) -> dict[str, str]:
    prefix = f"{cfg.catalog}." if cfg.catalog else ""
    return {layer: prefix + getattr(cfg.schemas, layer) for layer in ("bronze", "silver", "gold", "ops")}


class SparkQueryLayer:
    def __init__(self, spark: SparkSession, cfg: Settings, tables: Tables | None = None):
        self.spark = spark
        self.cfg = cfg
        self.lakehouse = Lakehouse(cfg)
        if tables is None:
            from lakesentinel.context import Context

            tables = Context(cfg, spark=spark).ops_tables
        self.tables = tables
        self.schemas = schema_names(cfg)
        self._names = re.compile(r"\b(" + "|".join(re.escape(s) for s in self.schemas.values()) + r")\.(\w+)")
        self._views_lock = threading.Lock()
        self._views_ready = False

    def for_user(self, access_token: str | None) -> "SparkQueryLayer":
        return self

    def exists(self, layer: str, table: str) -> bool:
        location = self.lakehouse.location(self.lakehouse.name(layer, table))
        if location is not None:
            from pathlib import Path

            return (Path(location) / "_delta_log").is_dir()
        return self.spark.catalog.tableExists(self.lakehouse.name(layer, table))

    def _views(self) -> None:
        """Gold's views, once gold's facts exist (the demo's lakehouse may have none yet)."""
        if self._views_ready or not self.exists("gold", "fact_cost_daily"):
            return
        from lakesentinel.gold.ddl import apply_views

        with self._views_lock:
            if not self._views_ready:
                apply_views(self.spark, self.cfg)
                self._views_ready = True

    def rows(self, name: str, sql: str) -> list[dict]:
        text = sql.format(**self.schemas)
        if " v_" in text or ".v_" in text:
            self._views()
        for schema, table in set(self._names.findall(text)):
            if not table.startswith("v_"):
                self.lakehouse.ensure(self.spark, f"{schema}.{table}")
        try:
            frame = self.spark.sql(text)
            return [plain(r.asDict(recursive=True)) for r in frame.collect()]
        except Exception as exc:  # Spark's analysis errors are long; the first line names the problem
            raise QueryError(f"query {name!r}: {str(exc).splitlines()[0][:300]}") from None
