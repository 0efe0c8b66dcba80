"""Writes rows into local source tables with delta-rs: fast, JVM-free, one commit per call.

Used by the simulator and by replay. Tables are created with the exact reference schema and, like
their Databricks originals, with Change Data Feed on where the real table has it.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SYSTEM_TABLES, SystemTable


@lru_cache(maxsize=None)
def arrow_schema(schema: T.StructType) -> pa.Schema:
    return to_arrow_schema(schema)


def to_arrow(schema: T.StructType, rows: list[dict]) -> pa.Table:
    """Rows (dicts, timestamps as epoch microseconds, dates as epoch days) to an Arrow table.

    Timestamps are cut to milliseconds, the precision the system tables carry.
    """
    table = pa.Table.from_pylist(rows, schema=arrow_schema(schema))
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field, pc.floor_temporal(table.column(i), unit="millisecond"))
    return table


class SourceWriter:
    def __init__(self, cfg: Settings):
        # Only on the embedded default: the entry points ask the context (Context.require_local) first.
        self.cfg = cfg
        self.lakehouse = Lakehouse(cfg)
        self._digests: dict[str, hashlib._Hash] = {}
        self.rows_written: dict[str, int] = {}

    def path(self, name: str) -> str:
        return self.lakehouse.location(self.lakehouse.source(name))

    def create(self, table: SystemTable) -> DeltaTable:
        path = self.path(table.name)
        if (Path(path) / "_delta_log").is_dir():
            return DeltaTable(path)
        Path(path).mkdir(parents=True, exist_ok=True)
        config = {"delta.enableChangeDataFeed": "true"} if table.change_data_feed else None
        return DeltaTable.create(path, schema=arrow_schema(table.schema), mode="ignore", configuration=config,
                                 name=table.name.replace(".", "_"))

    def create_all(self) -> None:
        for table in SYSTEM_TABLES.values():
            self.create(table)

    def append(self, name: str, data: pa.Table, metadata: dict | None = None, schema_mode: str | None = None) -> None:
        """Append in one commit (``schema_mode="merge"``: columns the table lacks are added)."""
        table = SYSTEM_TABLES[name]
        dt = self.create(table)
        props = CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)}) if metadata else None
        write_deltalake(dt, data, mode="append", commit_properties=props, schema_mode=schema_mode)
        self._account(name, data)

    def upsert(self, name: str, data: pa.Table, metadata: dict | None = None) -> None:
        """MERGE on the natural key: tables Databricks updates in place."""
        table = SYSTEM_TABLES[name]
        dt = self.create(table)
        on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.natural_key)
        props = CommitProperties(custom_metadata={"userMetadata": json.dumps(metadata)}) if metadata else None
        (dt.merge(source=data, predicate=on, source_alias="s", target_alias="t", commit_properties=props)
         .when_matched_update_all().when_not_matched_insert_all().execute())
        self._account(name, data)

    def write_rows(self, name: str, rows: list[dict], *, in_place: bool, metadata: dict | None = None) -> None:
        if not rows:
            return
        data = to_arrow(SYSTEM_TABLES[name].schema, rows)
        if in_place:
            self.upsert(name, data, metadata)
        else:
            self.append(name, data, metadata)

    def _account(self, name: str, data: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as stream:
            stream.write_table(data.combine_chunks())
        self._digests.setdefault(name, hashlib.sha256()).update(sink.getvalue().to_pybytes())
        self.rows_written[name] = self.rows_written.get(name, 0) + data.num_rows

    def checksums(self) -> dict[str, str]:
        """A digest per table over everything this writer committed, in commit order."""
        return {name: d.hexdigest()[:16] for name, d in sorted(self._digests.items())}

    def write_table(self, name: str, data: pa.Table, mode: str = "append") -> None:
        """Write a table of lakesentinel's own (e.g. the ground truth) at its configured location."""
        path = self.lakehouse.location(name)
        Path(path).mkdir(parents=True, exist_ok=True)
        write_deltalake(path, data, mode=mode, schema_mode="overwrite" if mode == "overwrite" else None)
        self._account(name, data)
