"""Where the app is wired: the one place that picks the query layer from configuration."""

from __future__ import annotations

import os

from lakesentinel.app.api import AppContext, create_app
from lakesentinel.app.config import AppSettings, load_app_settings
from lakesentinel.app.query_layer import QueryLayer, TtlCache
from lakesentinel.settings import Settings


def query_layer(cfg: Settings, app: AppSettings, spark=None) -> QueryLayer:
    """Local Spark over the embedded lakehouse, or a SQL warehouse on Databricks."""
    if app.query_layer == "warehouse":
        from lakesentinel.app.warehouse_queries import WarehouseQueryLayer, connector

        host = os.environ.get("DATABRICKS_HOST", "")
        if not host:
            from lakesentinel.errors import ConfigError

            raise ConfigError("the warehouse query layer needs DATABRICKS_HOST (Databricks Apps sets it)")
        return WarehouseQueryLayer(cfg, connector(host, app.warehouse_id or ""))
    from lakesentinel.app.spark_queries import SparkQueryLayer

    if spark is None:
        from lakesentinel.session import get_spark

        spark = get_spark(cfg)
    return SparkQueryLayer(spark, cfg)


def build_app(cfg: Settings, spark=None, *, layer: QueryLayer | None = None, app_settings: AppSettings | None = None):
    """The FastAPI app over this configuration's lakehouse (``spark``: reuse a running session)."""
    from lakesentinel.clock import utcnow
    from lakesentinel.alerts.commands import operator

    app_settings = app_settings or load_app_settings(cfg)
    ctx = AppContext(cfg, app_settings, layer or query_layer(cfg, app_settings, spark), operator, utcnow,
                     TtlCache(app_settings.cache_ttl_s))
    return create_app(ctx)
