"""Table names and locations, derived from configuration.

With a ``catalog`` the names are three-level (``catalog.plt_bronze.usage``); without one they are
two-level. With a ``storage_root`` every table lives at ``<storage_root>/<schema>/<table>`` and is
registered in the session's catalog when a session starts (and on first use, for tables another
process has created since); without one the catalog (Unity Catalog) manages storage.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from lakesentinel.errors import ConfigError
from lakesentinel.session_kind import session_key
from lakesentinel.settings import Settings
from lakesentinel.sources.types import schema_ddl

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Where each name points in the session catalog of this process, per Spark application: several
# lakehouses (tests, benchmarks) can take turns in one session, each re-pointing the names it uses.
_LOCATIONS: dict[tuple[str, str], str] = {}
_CREATING = threading.RLock()

LAYERS = ("bronze", "silver", "gold", "ops", "features")


def quote(name: str) -> str:
    """Backtick-quote each part of a dotted table name."""
    return ".".join(f"`{part}`" for part in name.split("."))


class Lakehouse:
    def __init__(self, cfg: Settings):
        self.cfg = cfg

    # ---- names -------------------------------------------------------------------------------
    def schema(self, layer: str) -> str:
        """A layer's schema, catalog-qualified when there is a catalog (``main.plt_gold`` or ``plt_gold``)."""
        schema = getattr(self.cfg.schemas, layer)
        return f"{self.cfg.catalog}.{schema}" if self.cfg.catalog else schema

    def name(self, layer: str, table: str) -> str:
        """Full name of one of lakesentinel's own tables, e.g. ``name("bronze", "usage")``."""
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}; one of {LAYERS}")
        if not _IDENT.match(table):
            raise ValueError(f"not a table name: {table!r}")
        return f"{self.schema(layer)}.{table}"

    def model(self, layer: str, model: str, *, local_prefix: str = "") -> str:
        """Registry name of an MLflow model: in Unity Catalog a model lives in a layer's schema as a table
        does (``main.plt_ops.detector_x``); a local registry has flat names (``local_prefix + model``)."""
        if (self.cfg.mlflow.registry_uri or "").startswith("databricks-uc") and self.cfg.catalog:
            return self.name(layer, model)
        return local_prefix + model

    def source(self, system_table: str) -> str:
        """Configured source table for a system table such as ``billing.usage``."""
        try:
            return self.cfg.sources[system_table].table
        except KeyError:
            raise ConfigError(f"{self.cfg.config_file}: key 'sources.{system_table}' is not configured") from None

    def checkpoint(self, stream: str) -> str:
        return f"{self.cfg.checkpoint_root.rstrip('/')}/{stream}"

    def location(self, name: str) -> str | None:
        """Storage path of a table, or None when the catalog manages storage."""
        if not self.cfg.storage_root:
            return None
        parts = name.replace("`", "").split(".")
        if len(parts) < 2:
            raise ValueError(f"table name needs a schema: {name!r}")
        return str(Path(self.cfg.storage_root) / parts[-2] / parts[-1])

    # ---- registration --------------------------------------------------------------------------
    def attach(self, spark: SparkSession) -> None:
        """Register every table found under the storage root in the session catalog."""
        if not self.cfg.storage_root:
            return
        root = Path(self.cfg.storage_root)
        if not root.is_dir():
            return
        for log in sorted(root.glob("*/*/_delta_log")):
            table_dir = log.parent
            self._register(spark, f"{table_dir.parent.name}.{table_dir.name}", str(table_dir))

    def ensure(self, spark: SparkSession, name: str) -> str:
        """Make ``name`` resolve to this lakehouse's table (created by another process, or re-pointed)."""
        path = self.location(name)
        if path is not None and (Path(path) / "_delta_log").is_dir():
            self._register(spark, name, path)
        return name

    def _register(self, spark: SparkSession, name: str, path: str) -> None:
        key = (session_key(spark), name)
        if _LOCATIONS.get(key) == path:
            return
        schema = name.split(".")[-2]
        spark.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}` LOCATION '{Path(path).parent}'")
        if key in _LOCATIONS:
            spark.sql(f"DROP TABLE IF EXISTS {quote(name)}")  # external: the data stays where it is
        spark.sql(f"CREATE TABLE IF NOT EXISTS {quote(name)} USING delta LOCATION '{path}'")
        _LOCATIONS[key] = path

    def read(self, spark: SparkSession, name: str):
        """The table as a DataFrame, by name, after making sure the name points at this lakehouse."""
        return spark.table(self.ensure(spark, name))

    def exists(self, spark: SparkSession, name: str) -> bool:
        self.ensure(spark, name)
        return spark.catalog.tableExists(name)

    def create_table(
        self,
        spark: SparkSession,
        name: str,
        schema: StructType | str,
        *,
        properties: dict[str, str] | None = None,
        partition_by: list[str] | None = None,
        cluster_by: list[str] | None = None,
        comment: str | None = None,
    ) -> str:
        """Create a Delta table if it does not exist (idempotent) and return its name."""
        with _CREATING:  # tasks run side by side may create the same shared table
            path = self.location(name)
            if path is not None and (Path(path) / "_delta_log").is_dir():
                self._register(spark, name, path)
                return name
            ddl = schema if isinstance(schema, str) else schema_ddl(schema)
            parts = name.split(".")
            if len(parts) == 3:
                spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{parts[0]}`.`{parts[1]}`")
            else:
                location = f" LOCATION '{Path(path).parent}'" if path else ""
                spark.sql(f"CREATE DATABASE IF NOT EXISTS `{parts[0]}`{location}")
            key = (session_key(spark), name)
            if path and key in _LOCATIONS:
                spark.sql(f"DROP TABLE IF EXISTS {quote(name)}")
            sql = f"CREATE TABLE IF NOT EXISTS {quote(name)} ({ddl}) USING delta"
            if partition_by:
                sql += f" PARTITIONED BY ({', '.join(partition_by)})"
            if cluster_by:
                sql += f" CLUSTER BY ({', '.join(cluster_by)})"
            if comment:
                sql += " COMMENT '" + comment.replace("'", "\\'") + "'"
            if path:
                sql += f" LOCATION '{path}'"
            if properties:
                props = ", ".join(f"'{k}' = '{v}'" for k, v in properties.items())
                sql += f" TBLPROPERTIES ({props})"
            spark.sql(sql)
            if path:
                _LOCATIONS[key] = path
        return name


# Delta operations in SQL rather than delta-spark's DeltaTable API, which reaches the JVM: the same
# statements run on classic Spark and on Spark Connect (serverless compute).

def history(spark: SparkSession, name: str, limit: int):
    """The table's last ``limit`` commits (version, timestamp, ...), newest first."""
    return spark.sql(f"DESCRIBE HISTORY {quote(name)} LIMIT {int(limit)}")


def latest_version(spark: SparkSession, name: str) -> int:
    return history(spark, name, 1).select("version").first()[0]


def merge_into(spark: SparkSession, target: str, source, on: str, actions: str) -> None:
    """``MERGE INTO target t USING source s ON on <actions>``, ``source`` a DataFrame."""
    import uuid

    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        spark.sql(f"MERGE INTO {quote(target)} t USING {view} s ON {on} {actions}")
    finally:
        spark.catalog.dropTempView(view)
