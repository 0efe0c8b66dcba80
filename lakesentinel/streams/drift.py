"""Schema drift between a source system table and its bronze copy.

Databricks adds columns to system tables at any time and promises not to remove or retype them.
Added columns flow into bronze by schema evolution; a removed or retyped column stops the stream with
an error naming the table and column, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T

from lakesentinel.errors import LakeSentinelError
from lakesentinel.sources.types import strip_nullability


class SchemaDriftError(LakeSentinelError):
    def __init__(self, table: str, problems: list[str]):
        self.table, self.problems = table, problems
        super().__init__(f"{table}: the source schema changed in a way bronze cannot follow; the stream is "
                         f"stopped and nothing was written: " + "; ".join(problems))


@dataclass(frozen=True)
class Drift:
    added: list[str]
    problems: list[str]


def compare(source: T.StructType, bronze: T.StructType, metadata: set[str]) -> Drift:
    """Columns the source added, and problems (bronze columns the source dropped or retyped)."""
    src = {f.name: f.dataType for f in source.fields}
    added = [name for name in src if name not in {f.name for f in bronze.fields}]
    problems = []
    for f in bronze.fields:
        if f.name in metadata:
            continue
        if f.name not in src:
            problems.append(f"column `{f.name}` ({f.dataType.simpleString()}) disappeared from the source")
        elif strip_nullability(_without_new_fields(src[f.name], f.dataType)) != strip_nullability(f.dataType):
            problems.append(f"column `{f.name}` changed type from {f.dataType.simpleString()} "
                            f"to {src[f.name].simpleString()}")
    return Drift(added, problems)


def _without_new_fields(source: T.DataType, bronze: T.DataType) -> T.DataType:
    """Struct fields added inside a nested column (in arrays and map values too) are additive: compare only
    what bronze has."""
    if isinstance(source, T.StructType) and isinstance(bronze, T.StructType):
        known = {f.name: f for f in source.fields}
        return T.StructType([T.StructField(f.name, _without_new_fields(known[f.name].dataType, f.dataType))
                             if f.name in known else T.StructField(f.name, T.NullType()) for f in bronze.fields])
    if isinstance(source, T.ArrayType) and isinstance(bronze, T.ArrayType):  # an array of structs gains a field
        return T.ArrayType(_without_new_fields(source.elementType, bronze.elementType), bronze.containsNull)
    if isinstance(source, T.MapType) and isinstance(bronze, T.MapType):
        return T.MapType(source.keyType, _without_new_fields(source.valueType, bronze.valueType),
                         bronze.valueContainsNull)
    return source
