"""The query layer on Databricks: a SQL warehouse through the Databricks SQL connector.

The app runs as its service principal; each request queries with the signed-in user's token (the
``x-forwarded-access-token`` header Databricks Apps adds), so Unity Catalog decides what each user
sees. Row reads and writes the CLI's code makes (commands, silences) go through the same warehouse.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

from pyspark.sql import types as T

from lakesentinel.app.query_layer import QueryError
from lakesentinel.app.spark_queries import plain, schema_names
from lakesentinel.lakehouse import Lakehouse, quote
from lakesentinel.settings import Settings
from lakesentinel.sources.types import schema_ddl, type_ddl

Connect = Callable[[str | None], Any]  # access token (None: the app's own identity) -> DB-API connection


def connector(host: str, warehouse_id: str) -> Connect:
    """Connections to one warehouse, as a user (their token) or as the app (its OAuth credentials)."""

    def connect(access_token: str | None):
        from databricks import sql

        options = {"server_hostname": host.removeprefix("https://").rstrip("/"),
                   "http_path": f"/sql/1.0/warehouses/{warehouse_id}"}
        if access_token:
            return sql.connect(access_token=access_token, **options)
        from databricks.sdk.core import Config, oauth_service_principal

        config = Config(host=host)
        return sql.connect(credentials_provider=lambda: oauth_service_principal(config), **options)

    return connect


def _run(connect: Connect, token: str | None, name: str, sql: str, params: dict | None = None) -> list[dict]:
    try:
        with connect(token) as conn, conn.cursor() as cursor:
            cursor.execute(sql, params or None)
            if cursor.description is None:
                return []
            columns = [d[0] for d in cursor.description]
            return [plain(dict(zip(columns, row))) for row in cursor.fetchall()]
    except Exception as exc:  # the connector's errors carry the server's message on their first line
        raise QueryError(f"query {name!r}: {str(exc).splitlines()[0][:300]}") from None


class WarehouseTables:
    """The CLI's ``Tables`` interface over a SQL warehouse (reads and appends by name)."""

    cheap_versions = False

    def __init__(self, cfg: Settings, connect: Connect, token: str | None):
        self.lakehouse = Lakehouse(cfg)
        self.connect = connect
        self.token = token

    def name(self, layer: str, table: str) -> str:
        return self.lakehouse.name(layer, table)

    def _exists(self, name: str) -> bool:
        parts = name.split(".")
        rows = _run(self.connect, self.token, "table exists",
                    f"SHOW TABLES IN {quote('.'.join(parts[:-1]))} LIKE :table", {"table": parts[-1]})
        return bool(rows)

    def version(self, name: str) -> int | None:
        if not self._exists(name):
            return None
        return _run(self.connect, self.token, "table version", f"DESCRIBE HISTORY {quote(name)} LIMIT 1")[0]["version"]

    def changes(self, name: str, after: int, upto: int) -> list[dict]:
        raise NotImplementedError("the app reads whole tables; change feeds are the lifecycle's")

    def read(self, name: str, version: int | None = None) -> list[dict]:
        if not self._exists(name):
            return []
        as_of = f" VERSION AS OF {int(version)}" if version is not None else ""
        rows = _run(self.connect, self.token, f"read {name}", f"SELECT * FROM {quote(name)}{as_of}")
        for row in rows:  # the warehouse returns aware UTC timestamps; the CLI's code works in naive UTC
            for key, value in row.items():
                if isinstance(value, datetime) and value.tzinfo is not None:
                    row[key] = value.astimezone(timezone.utc).replace(tzinfo=None)
        return rows

    def append(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        if not rows:
            return
        _run(self.connect, self.token, f"create {name}",
             f"CREATE TABLE IF NOT EXISTS {quote(name)} ({schema_ddl(schema)}) "
             "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
        for row in rows:
            values, params = [], {}
            for i, field in enumerate(schema.fields):
                value = row.get(field.name)
                key = f"p{i}"
                if isinstance(field.dataType, (T.ArrayType, T.MapType, T.StructType)):
                    # Complex values travel as JSON text and are parsed by the warehouse.
                    values.append(f"from_json(:{key}, '{type_ddl(field.dataType)}')")
                    params[key] = None if value is None else json.dumps(value, default=str)
                elif isinstance(field.dataType, T.TimestampType):
                    values.append(f"CAST(:{key} AS TIMESTAMP)")
                    params[key] = None if value is None else value.isoformat()
                else:
                    values.append(f":{key}")
                    params[key] = value
            columns = ", ".join(f"`{f.name}`" for f in schema.fields)
            _run(self.connect, self.token, f"append to {name}",
                 f"INSERT INTO {quote(name)} ({columns}) VALUES ({', '.join(values)})", params)

    def overwrite(self, name: str, rows: list[dict], schema: T.StructType) -> None:
        raise NotImplementedError("the app never overwrites a table")


class WarehouseQueryLayer:
    def __init__(self, cfg: Settings, connect: Connect, access_token: str | None = None):
        self.cfg = cfg
        self.connect = connect
        self.access_token = access_token
        self.schemas = schema_names(cfg)
        self.tables = WarehouseTables(cfg, connect, access_token)
        self.lakehouse = Lakehouse(cfg)

    def for_user(self, access_token: str | None) -> "WarehouseQueryLayer":
        return WarehouseQueryLayer(self.cfg, self.connect, access_token or self.access_token)

    def exists(self, layer: str, table: str) -> bool:
        return self.tables._exists(self.lakehouse.name(layer, table))

    def rows(self, name: str, sql: str) -> list[dict]:
        return _run(self.connect, self.access_token, name, sql.format(**self.schemas))
