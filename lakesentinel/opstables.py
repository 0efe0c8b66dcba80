"""Small operational tables (outbox, deliveries, commands, silences, lifecycle state), read and written
row by row by the lifecycle, the delivery worker and the CLI.

Two backends with one interface: ``DeltaRsTables`` works on a local lakehouse's paths with delta-rs
(commits in milliseconds, no JVM, so the worker and the CLI start at once), ``SparkTables`` works by
name through a SparkSession (Databricks, Unity Catalog). The composition root (``Context.ops_tables``)
picks one; neither starts a Spark session (``SparkTables`` is handed the running one). Tables are created on first write with Change Data
Feed on, and read incrementally by commit version.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Protocol

import pyarrow as pa
from pyspark.sql import types as T

from lakesentinel.deltars import read_arrow
from lakesentinel.lakehouse import Lakehouse, history, latest_version
from lakesentinel.settings import Settings
from lakesentinel.sources.writer import arrow_schema

CDF = {"delta.enableChangeDataFeed": "true"}


def aware_rows(rows: Iterable[dict], schema: T.StructType) -> list[dict]:
    """Naive datetimes are UTC: make them explicit so no backend reads them as local time."""
    ts = [f.name for f in schema.fields if isinstance(f.dataType, T.TimestampType)]
    out = []
    for row in rows:
        r = {f.name: row.get(f.name) for f in schema.fields}
        for name in ts:
            v = r[name]
            if isinstance(v, datetime) and v.tzinfo is None:
                r[name] = v.replace(tzinfo=timezone.utc)
        out.append(r)
    return out


def _arrow_rows(table: pa.Table) -> list[dict]:
    """Rows as dicts with naive UTC datetimes and maps as dicts (Arrow gives lists of pairs)."""
    rows = table.to_pylist()
    maps = [f.name for f in table.schema if pa.types.is_map(f.type)]
    stamps = [f.name for f in table.schema if pa.types.is_timestamp(f.type) and f.type.tz is not None]
    for row in rows:
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
        for name in stamps:
            if row[name] is not None:
                row[name] = row[name].astimezone(timezone.utc).replace(tzinfo=None)
    return rows


class Tables(Protocol):
    cheap_versions: bool

    def name(self, layer: str, table: str) -> str: ...

    def version(self, name: str) -> int | None:
        """Latest commit version, None when the table does not exist yet."""

    def changes(self, name: str, after: int, upto: int) -> list[dict]:
        """Rows inserted by commits ``after < version <= upto``, each with ``_commit_version``."""

    def read(self, name: str, version: int | None = None) -> list[dict]:
        """Every row, as of ``version`` when given (so a reader can go on from exactly there)."""

    def committed_at(self, name: str) -> float | None:
        """Wall-clock seconds (epoch) of the latest commit, None when the table does not exist yet."""

    def append(self, name: str, rows: list[dict], schema: T.StructType) -> None: ...

    def overwrite(self, name: str, rows: list[dict], schema: T.StructType) -> None: ...


class DeltaRsTables:
    cheap_versions = True  # a version probe reads the log directory: poll as often as you like

    def __init__(self, cfg: Settings):
        self.cfg = cfg
        self.lakehouse = Lakehouse(cfg)
        self._lock = threading.Lock()
        self._handles: dict[str, Any] = {}

    def name(self, layer: str, table: str) -> str:
        return self.lakehouse.name(layer, table)

    def path(self, name: str) -> str:
        return self.lakehouse.location(name)

    def _table(self, name: str):
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        path = self.path(name)
        if not (Path(path) / "_delta_log").is_dir():
            return None
        dt = self._handles.get(name)
        try:
            if dt is None:
                dt = self._handles[name] = DeltaTable(path)
            else:
                dt.update_incremental()
        except TableNotFoundError:  # another process is creating it: no commit yet
            return None
        return dt

    def version(self, name: str) -> int | None:
        with self._lock:
            dt = self._table(name)
            return None if dt is None else dt.version()

    def committed_at(self, name: str) -> float | None:
        with self._lock:
            dt = self._table(name)
            return None if dt is None else dt.history(1)[0]["timestamp"] / 1000.0

    def changes(self, name: str, after: int, upto: int) -> list[dict]:
        if upto <= after:
            return []
        with self._lock:
            dt = self._table(name)
            if dt is None:
                return []
            # delta-rs hands out arro3 streams; pyarrow takes them over the Arrow C stream interface.
            data = pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=after + 1, ending_version=upto)).read_all()
        rows = _arrow_rows(data)
        return [r for r in rows if r.get("_change_type") in ("insert", "update_postimage")]

    def read(self, name: str, version: int | None = None) -> list[dict]:
        with self._lock:
            dt = self._table(name)
            if dt is None:
                return []
            if version is not None and version != dt.version():
                from deltalake import DeltaTable

                dt = DeltaTable(self.path(name), version=version)
            return _arrow_rows(read_arrow(dt))

    def _write(self, name: str, rows: list[dict], schema: T.StructType, mode: str) -> None:
        from deltalake import write_deltalake

        data = pa.Table.from_pylist(aware_rows(rows, schema), schema=arrow_schema(schema))
        path = self.path(name)
        with self._lock:
            Path(path).mkdir(parents=True, exist_ok=True)
            fresh = not (Path(path) / "_delta_log").is_dir()
            write_deltalake(path, data, mode=mode, configuration=CDF if fresh else None)
            self._handles.pop(name, None)

    def append(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        if rows:
            self._write(name, rows, schema, "append")

    def overwrite(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        self._write(name, rows, schema, "overwrite")


class SparkTables:
    cheap_versions = False  # a version probe is a Spark job

    def __init__(self, spark, cfg: Settings):
        self.spark = spark
        self.cfg = cfg
        self.lakehouse = Lakehouse(cfg)

    def name(self, layer: str, table: str) -> str:
        return self.lakehouse.name(layer, table)

    def version(self, name: str) -> int | None:
        if not self.lakehouse.exists(self.spark, name):
            return None
        return latest_version(self.spark, name)

    def committed_at(self, name: str) -> float | None:
        if not self.lakehouse.exists(self.spark, name):
            return None
        ts = history(self.spark, name, 1).select("timestamp").first()[0]
        return ts.replace(tzinfo=timezone.utc).timestamp()

    def changes(self, name: str, after: int, upto: int) -> list[dict]:
        if upto <= after:
            return []
        df = (self.spark.read.format("delta").option("readChangeFeed", "true")
              .option("startingVersion", after + 1).option("endingVersion", upto).table(self.lakehouse.ensure(self.spark, name))
              .where("_change_type IN ('insert', 'update_postimage')"))
        return _arrow_rows(df.toArrow())

    def read(self, name: str, version: int | None = None) -> list[dict]:
        if not self.lakehouse.exists(self.spark, name):
            return []
        if version is not None:
            df = self.spark.read.format("delta").option("versionAsOf", version).table(self.lakehouse.ensure(self.spark, name))
            return _arrow_rows(df.toArrow())
        return _arrow_rows(self.lakehouse.read(self.spark, name).toArrow())

    def _frame(self, rows: list[dict], schema: T.StructType):
        return self.spark.createDataFrame(aware_rows(rows, schema), schema)

    def append(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        if rows:
            self.lakehouse.create_table(self.spark, name, schema, properties=CDF)
            self._frame(rows, schema).write.format("delta").mode("append").saveAsTable(name)

    def overwrite(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        self.lakehouse.create_table(self.spark, name, schema, properties=CDF)
        self._frame(rows, schema).write.format("delta").mode("overwrite").saveAsTable(name)
