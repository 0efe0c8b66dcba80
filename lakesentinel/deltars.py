"""Reading a Delta table into Arrow with delta-rs, through its own query engine.

``DeltaTable.to_pyarrow_table()`` scans through a pyarrow dataset over delta-rs' filesystem bridge,
which leaves native threads behind: about one process in three then aborts at exit ("terminate called
without an active exception", delta-io/delta-rs#2184), after its work is done and its output printed.
DataFusion's scan (``QueryBuilder``) leaves none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from deltalake import DeltaTable


def read_arrow(table: DeltaTable | str, columns: list[str] | None = None) -> pa.Table:
    """Every row of ``table`` (a handle, at its loaded version, or a path), typed as the table declares."""
    from deltalake import DeltaTable, QueryBuilder

    dt = DeltaTable(table) if isinstance(table, str) else table
    declared = pa.schema(dt.schema().to_arrow())
    if columns is not None:
        declared = pa.schema([declared.field(c) for c in columns])
    select = ", ".join('"' + c.replace('"', '""') + '"' for c in declared.names)
    if not select:
        return declared.empty_table()
    data = pa.table(QueryBuilder().register("t", dt).execute(f"SELECT {select} FROM t").read_all())
    # DataFusion hands strings back as string_view; callers expect the table's own types.
    return data.cast(declared) if data.num_rows else declared.empty_table()
